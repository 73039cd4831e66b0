# SPDX-License-Identifier: MIT
"""Redis Sentinel: wrapp asks the sentinels for the master, checks its ROLE,
and after a failover (SENTINEL failover, or the master killed) asks again and
replays what it holds to the new master, in order, exactly once."""
import json
import signal
import subprocess

import pytest

from conftest import WRAPP, entries, wait_for

N_LINES = 100000


def start_app(start_wrapp, tmp_path, url, script, stream="app", extra=None, env=None, flush=60):
    cfg = {"output": {"spool_dir": str(tmp_path / "spool"), "flush_seconds": flush,
                      "passthrough": False},
           "redis": {"ping_seconds": 1, "timeout_seconds": 2, "maxlen": 0}}
    cfg["redis"].update(extra or {})
    p = tmp_path / "sentinel.json"
    p.write_text(json.dumps(cfg))
    e = {"WRAPP_STREAM_NAME": stream, "WRAPP_LOG_LEVEL": "info"}
    if url:
        e["WRAPP_REDIS_URL"] = url
    e.update(env or {})
    return start_wrapp(["-c", str(p), "--", "sh", "-c", script], env=e)


def lines_of(client, key="logs:app:app:info"):
    return [f for _, f in entries(client, key)]


def check_complete(fields, n):
    """Every 'line i' exactly once, in order, one run, seq strictly rising."""
    msgs = [f["message"] for f in fields if f["message"].startswith(b"line ")]
    got = [int(m.split()[1]) for m in msgs]
    missing = sorted(set(range(n)) - set(got))
    assert not missing, f"{len(missing)} lines missing, first {missing[:10]}"
    assert got == list(range(n)), "lines duplicated or out of order"
    seqs = [int(f["seq"]) for f in fields]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert len({f["run"] for f in fields}) == 1


def test_url_form_finds_the_master(start_wrapp, sentinel_setup, tmp_path, testapp):
    w = start_app(start_wrapp, tmp_path, sentinel_setup.url + "?db=4",
                  f"{testapp} lines 100 0; echo done")
    r = w.wait(30)
    assert r.returncode == 0, r.stderr
    c = sentinel_setup.master_client(4)
    fields = lines_of(c)
    check_complete(fields, 100)
    assert "connected to Redis at master mymaster" in r.stderr
    # The operator commands go through the sentinels too.
    got = subprocess.run([WRAPP, "logs", "-n", "3", "--stream", "app"], capture_output=True,
                         env={"WRAPP_REDIS_URL": sentinel_setup.url + "?db=4"}, timeout=30)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines()[-3:-1] == [b"line 99", b"done"]


def test_config_form_and_separate_sentinel_credentials(start_wrapp, tmp_path, testapp):
    """Data nodes and sentinels with different passwords: the sentinels'
    from redis.sentinel_secrets_dir, the data nodes' from redis.secrets_dir."""
    from conftest import SentinelSetup
    setup = SentinelSetup(tmp_path / "auth", data_pass="datapw", sentinel_pass="sentpw")
    try:
        setup.start()
        sec = tmp_path / "secrets" / "default"
        sec.mkdir(parents=True)
        (sec / "password").write_text("datapw\n")
        ssec = tmp_path / "ssecrets" / "default"
        ssec.mkdir(parents=True)
        (ssec / "password").write_text("sentpw\n")
        extra = {"sentinels": setup.hosts, "sentinel_master": "mymaster",
                 "sentinel_secrets_dir": str(ssec), "secrets_dir": str(sec)}
        r = start_app(start_wrapp, tmp_path, None, f"{testapp} lines 50 0", extra=extra).wait(30)
        assert r.returncode == 0, r.stderr
        check_complete(lines_of(setup.master_client()), 50)
        assert "datapw" not in r.stderr and "sentpw" not in r.stderr
        # A wrong sentinel password: one clear line naming the sentinel.
        (ssec / "password").write_text("wrong\n")
        extra["wait_at_start_seconds"] = 1
        r = start_app(start_wrapp, tmp_path, None, "echo x", extra=extra, flush=0).wait(30)
        assert r.returncode == 1
        assert "refused the credentials" in r.stderr and "sentinel 127.0.0.1:" in r.stderr, \
            r.stderr
        assert "wrong" not in r.stderr
    finally:
        setup.stop()


def run_through_failover(start_wrapp, setup, tmp_path, testapp, fail):
    """N_LINES over about 8 s; fail(setup) about 2 s in; returns (stderr, old, new)."""
    old = setup.master_addr()
    w = start_app(start_wrapp, tmp_path, setup.url, f"{testapp} lines {N_LINES} 8")
    assert wait_for(lambda: setup.master_client().xlen("logs:app:app:info") > 20000, 20)
    fail(setup)
    assert wait_for(lambda: setup.master_addr() and setup.master_addr() != old, 30), \
        "no failover happened"
    r = w.wait(120)
    assert r.returncode == 0, r.stderr
    return r.stderr, old, setup.master_addr()


@pytest.mark.slow
def test_sentinel_failover_loses_nothing(start_wrapp, sentinel_setup, tmp_path, testapp):
    def fail(s):
        s.sentinel(0).execute_command("SENTINEL", "FAILOVER", "mymaster")
    err, old, new = run_through_failover(start_wrapp, sentinel_setup, tmp_path, testapp, fail)
    fields = lines_of(sentinel_setup.master_client())
    check_complete(fields, N_LINES)
    # The old master took writes until the sentinels' answer changed (checked
    # every second); what it acknowledged in that time the new master lacks,
    # and the replay window sent it again.
    assert "the sentinels name a new master" in err or "READONLY" in err, err


@pytest.mark.slow
def test_master_killed_loses_nothing_wrapp_kept(start_wrapp, sentinel_setup, tmp_path, testapp):
    """SIGKILL of the master: what it acknowledged but had not replicated is
    lost by Redis; wrapp's replay window (redis.replay_bytes) sends it again
    to the new master, so here nothing is missing."""
    def fail(s):
        s.master.proc.send_signal(signal.SIGKILL)
    err, old, new = run_through_failover(start_wrapp, sentinel_setup, tmp_path, testapp, fail)
    fields = lines_of(sentinel_setup.master_client())
    check_complete(fields, N_LINES)

