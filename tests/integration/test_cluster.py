# SPDX-License-Identifier: MIT
"""Redis Cluster: wrapp reads the slot map from the seeds, writes one
application's keys (hash tag {<stream>}, the DB as a key prefix) to the
node owning their slot, and follows ASK and MOVED while that slot migrates,
losing nothing."""
import json
import subprocess
import threading
import time

import pytest

from conftest import WRAPP, wait_for

N_LINES = 60000


def slot_of(cluster, key):
    return cluster.nodes[0].client(0).execute_command("CLUSTER", "KEYSLOT", key)


def start_app(start_wrapp, tmp_path, url, script, stream="app", extra=None):
    cfg = {"output": {"spool_dir": str(tmp_path / "spool"), "flush_seconds": 60,
                      "passthrough": False},
           "redis": {"ping_seconds": 1, "timeout_seconds": 2, "maxlen": 0}}
    cfg["redis"].update(extra or {})
    p = tmp_path / "cluster.json"
    p.write_text(json.dumps(cfg))
    env = {"WRAPP_STREAM_NAME": stream, "WRAPP_LOG_LEVEL": "info", "WRAPP_REDIS_URL": url}
    return start_wrapp(["-c", str(p), "--", "sh", "-c", script], env=env)


def stream_entries(cluster, key):
    c = cluster.client()
    out, start = [], "-"
    while True:
        got = c.xrange(key, start, "+", count=20000)
        out += [{k.decode(): v for k, v in f.items()} for _, f in got]
        if len(got) < 20000:
            return out
        start = "(" + got[-1][0].decode()


def check_complete(fields, n):
    got = [int(f["message"].split()[1]) for f in fields if f["message"].startswith(b"line ")]
    missing = sorted(set(range(n)) - set(got))
    assert not missing, f"{len(missing)} lines missing, first {missing[:10]}"
    assert got == list(range(n)), "lines duplicated or out of order"
    seqs = [int(f["seq"]) for f in fields]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_keys_carry_the_hash_tag_and_db_prefix(start_wrapp, redis_cluster, tmp_path, testapp):
    r = start_app(start_wrapp, tmp_path, redis_cluster.url,
                  f"{testapp} lines 500 0; echo '{{{{hits}}}}'; echo '{{{{hits}}}}'; "
                  "echo '{{depth:7}}'").wait(30)
    assert r.returncode == 0, r.stderr
    info = "db1:logs:app:{app}:info"
    check_complete(stream_entries(redis_cluster, info), 500)
    c = redis_cluster.client()
    assert c.get("db2:wrapp:{app}:hits") == b"2"
    assert c.get("db2:wrapp:{app}:depth") == b"7"
    assert c.xlen("db1:logs:app:{app}:status") >= 2
    slot = slot_of(redis_cluster, info)
    assert slot == slot_of(redis_cluster, "app") == slot_of(redis_cluster, "db2:wrapp:{app}:hits")
    # Nothing in the Go layout's keys, on any node.
    for n in redis_cluster.nodes:
        assert not n.client(0).keys("logs:app:*")


def test_custom_db_prefix_and_wrapp_logs(start_wrapp, redis_cluster, tmp_path, testapp):
    url = redis_cluster.url + "?db_prefix=tenant7-db"
    r = start_app(start_wrapp, tmp_path, url, "echo hello; echo world", stream="svc").wait(30)
    assert r.returncode == 0, r.stderr
    fields = stream_entries(redis_cluster, "tenant7-db1:logs:app:{svc}:info")
    assert [f["message"] for f in fields][1:3] == [b"hello", b"world"]
    got = subprocess.run([WRAPP, "logs", "-n", "5", "--stream", "svc"], capture_output=True,
                         env={"WRAPP_REDIS_URL": url}, timeout=30)
    assert got.returncode == 0, got.stderr
    assert b"hello\nworld\n" in got.stdout


def migrate_slot(cluster, slot, src, dst, pause):
    """Move slot from src to dst the way redis-cli --cluster reshard does,
    one key at a time with pauses (so writes meet ASK), then assign it."""
    sid, did = cluster.node_id(src), cluster.node_id(dst)
    s, d = src.client(0), dst.client(0)
    d.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", sid)
    s.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", did)
    while True:
        keys = s.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1)
        if not keys:
            break
        s.execute_command("MIGRATE", "127.0.0.1", dst.port, keys[0], 0, 10000)
        time.sleep(pause)
    for n in cluster.nodes:
        n.client(0).execute_command("CLUSTER", "SETSLOT", slot, "NODE", did)


@pytest.mark.slow
def test_slot_migration_during_a_run_loses_nothing(start_wrapp, redis_cluster, tmp_path,
                                                   testapp):
    info = "db1:logs:app:{app}:info"
    slot = slot_of(redis_cluster, info)
    src = redis_cluster.owner(slot)
    dst = next(n for n in redis_cluster.nodes if n is not src)
    w = start_app(start_wrapp, tmp_path, redis_cluster.url,
                  f"{testapp} lines {N_LINES} 6; echo '{{{{hits}}}}'")
    assert wait_for(lambda: src.client(0).xlen(info) > 10000, 20)
    migrate_slot(redis_cluster, slot, src, dst, pause=1.0)
    r = w.wait(120)
    assert r.returncode == 0, r.stderr
    assert redis_cluster.owner(slot) is dst
    check_complete(stream_entries(redis_cluster, info), N_LINES)
    assert redis_cluster.client().get("db2:wrapp:{app}:hits") == b"1"
    stats = dst.client(0).info("commandstats")
    assert stats.get("cmdstat_asking", {}).get("calls", 0) > 0, "no ASK redirection was seen"
    assert "moved the stream's slot" in r.stderr, r.stderr
