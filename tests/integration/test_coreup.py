# SPDX-License-Identifier: MIT
"""Cores in Redis: a crashed app's core uploaded (crash.core "redis") and
fetched back byte for byte with `wrapp core get`, by its id or by its
`wrapp crashes` entry; and the reader on cores stored by hand (a zstd frame
of raw blocks): a corrupt or missing chunk, a missing core, a file that is
there already; the core column of `wrapp crashes`."""
import hashlib
import json
import os
import struct
import subprocess

from conftest import WRAPP, entries
from test_crash import crash_run, reports

STREAM = "crashy"
CORE_DB = 3


def wrapp_cmd(redis, *args, cwd=None):
    env = {"PATH": os.environ["PATH"], "WRAPP_REDIS_URL": redis.url}
    return subprocess.run([WRAPP] + list(args), env=env, capture_output=True, cwd=cwd,
                          timeout=60)


def zstd_raw_frame(data):
    """A zstd frame of raw (stored) blocks: what the reader must accept
    from any compressor."""
    out = bytearray(struct.pack("<I", 0xFD2FB528)) + bytes([0x00, 7 << 3])  # window 128 KiB
    blocks = [data[i:i + (128 << 10)] for i in range(0, len(data), 128 << 10)] or [b""]
    for i, b in enumerate(blocks):
        last = 1 if i == len(blocks) - 1 else 0
        out += struct.pack("<I", last | (len(b) << 3))[:3] + b
    return bytes(out)


def store_core(redis, core, time_us=1795391999123456, pid=42, chunk=4096):
    """Chunks and manifest as wrapp writes them; returns the id."""
    cid = f"{time_us}-{pid}"
    z = zstd_raw_frame(core)
    chunks = [z[i:i + chunk] for i in range(0, len(z), chunk)]
    c = redis.client(CORE_DB)
    key = f"wrapp:{STREAM}:core:{cid}"
    for i, b in enumerate(chunks):
        c.set(f"{key}:{i}", b, ex=600)
    c.set(key, json.dumps({
        "version": 1, "id": cid, "compression": "zstd", "chunks": len(chunks),
        "chunk_bytes": chunk, "compressed_bytes": len(z), "size": len(core),
        "sha256": hashlib.sha256(core).hexdigest(), "pid": pid, "signal": "SIGSEGV",
        "signal_number": 11, "time": "2026-11-22T23:59:59.123456Z", "time_us": time_us,
        "exe": "/usr/bin/app", "build_id": "ab", "modules": []}), ex=600)
    return cid


def add_crash_entry(redis, time_us, pid):
    report = json.dumps({"version": 1, "time": "2026-11-22T23:59:59.123456Z",
                         "time_us": time_us, "pid": pid, "signal": {"name": "SIGSEGV"},
                         "exe": "/usr/bin/app", "threads": []})
    return redis.client().xadd(f"logs:app:{STREAM}:crash",
                               {"message": "crashed", "report": report}).decode()


def test_a_crashed_apps_core_is_stored_in_redis_and_fetched_back(run_wrapp, redis_server,
                                                                  tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["print", "2", "null"], redis=redis_server,
                  extra_env={"WRAPP_CORE": "redis"}, timeout=60)
    assert r.returncode == 128 + 11, r.stderr
    sub, rep = reports(tmp_path)[0]
    local = (sub / "core").read_bytes()
    assert local[:4] == b"\x7fELF"
    cid = f"{rep['time_us']}-{rep['pid']}"
    manifest = json.loads(redis_server.client(CORE_DB).get(f"wrapp:{STREAM}:core:{cid}"))
    assert manifest["size"] == len(local) and manifest["compression"] == "zstd"
    assert manifest["sha256"] == hashlib.sha256(local).hexdigest()
    assert manifest["pid"] == rep["pid"] and manifest["signal"] == "SIGSEGV"
    assert any(m["path"].endswith("/crashapp") for m in manifest["modules"])
    assert redis_server.client(CORE_DB).ttl(f"wrapp:{STREAM}:core:{cid}:0") > 6 * 24 * 3600
    status = [f["message"].decode() for _, f in
              entries(redis_server.client(), f"logs:app:{STREAM}:status")]
    assert any(f"core of pid {rep['pid']} uploaded" in m for m in status), status
    got = wrapp_cmd(redis_server, "core", "get", cid, "--stream", STREAM, cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert (tmp_path / f"core.{cid}").read_bytes() == local
    ls = wrapp_cmd(redis_server, "crashes", "--stream", STREAM)
    (line,) = ls.stdout.decode().splitlines()
    eid, mark = line.split()[:2]
    assert mark == "core", line
    again = wrapp_cmd(redis_server, "core", "get", eid, "--stream", STREAM, "-o",
                      str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again").read_bytes() == local


def test_core_get_writes_the_stored_core_and_checks_it(redis_server, tmp_path):
    core = os.urandom(50000) + bytes(300000) + b"end"
    cid = store_core(redis_server, core)
    out = tmp_path / "out.core"
    got = wrapp_cmd(redis_server, "core", "get", cid, "--stream", STREAM, "-o", str(out))
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == core
    assert b"SHA-256 ok" in got.stdout and b"gdb /usr/bin/app" in got.stdout
    # There already: refused without -f, replaced with it.
    again = wrapp_cmd(redis_server, "core", "get", cid, "--stream", STREAM, "-o", str(out))
    assert again.returncode == 2 and b"-f" in again.stderr
    out.write_bytes(b"old")
    forced = wrapp_cmd(redis_server, "core", "get", cid, "--stream", STREAM, "-o", str(out), "-f")
    assert forced.returncode == 0 and out.read_bytes() == core
    # A frame whose last block fills the reader's buffer exactly.
    whole = bytes(256 << 10)
    cid = store_core(redis_server, whole, pid=43)
    got = wrapp_cmd(redis_server, "core", "get", cid, "--stream", STREAM, "-o", str(out), "-f")
    assert got.returncode == 0 and out.read_bytes() == whole, got.stderr


def test_core_get_finds_the_core_by_its_crash_entry(redis_server, tmp_path):
    core = b"\x7fELF" + os.urandom(9000)
    cid = store_core(redis_server, core, time_us=1795391999000001, pid=7)
    eid = add_crash_entry(redis_server, 1795391999000001, 7)
    add_crash_entry(redis_server, 1795391999000002, 8)
    got = wrapp_cmd(redis_server, "core", "get", eid, "--stream", STREAM, cwd=tmp_path)
    assert got.returncode == 0, got.stderr
    assert (tmp_path / f"core.{cid}").read_bytes() == core
    ls = wrapp_cmd(redis_server, "crashes", "--stream", STREAM)
    assert ls.returncode == 0, ls.stderr
    marks = [line.split()[1] for line in ls.stdout.decode().splitlines()]
    assert marks == ["core", "-"], ls.stdout


def test_core_get_refuses_a_corrupt_or_incomplete_core(redis_server, tmp_path):
    core = os.urandom(40000)
    cid = store_core(redis_server, core)
    key = f"wrapp:{STREAM}:core:{cid}"
    c = redis_server.client(CORE_DB)
    c.setrange(f"{key}:3", 100, b"XXXX")
    out = tmp_path / "bad.core"
    bad = wrapp_cmd(redis_server, "core", "get", cid, "--stream", STREAM, "-o", str(out))
    assert bad.returncode == 1
    err = bad.stderr.decode()
    assert err.count("\n") == 1 and key in err and "SHA-256" in err, err
    assert not out.exists() and not (tmp_path / "bad.core.part").exists()
    c.delete(f"{key}:5")
    gone = wrapp_cmd(redis_server, "core", "get", cid, "--stream", STREAM, "-o", str(out))
    assert gone.returncode == 1 and b"chunk 5: missing" in gone.stderr, gone.stderr
    c.set(key, b'{"version": 1, "compression": "zstd", "chunks": 0}')
    odd = wrapp_cmd(redis_server, "core", "get", cid, "--stream", STREAM, "-o", str(out))
    assert odd.returncode == 1 and b"bad manifest: chunks" in odd.stderr, odd.stderr


def test_core_get_says_when_there_is_no_core_or_no_id(redis_server, tmp_path):
    none = wrapp_cmd(redis_server, "core", "get", "1795391999123456-9", "--stream", STREAM,
                     cwd=tmp_path)
    assert none.returncode == 1
    assert none.stderr.decode().count("\n") == 1
    assert b"no core wrapp:crashy:core:1795391999123456-9 in Redis DB 3" in none.stderr
    assert wrapp_cmd(redis_server, "core", "get", "x", "--stream", STREAM).returncode == 2
    assert wrapp_cmd(redis_server, "core", "fetch", "1-1", "--stream", STREAM).returncode == 2
    helped = wrapp_cmd(redis_server, "core", "--help")
    assert helped.returncode == 0 and b"wrapp core get ID" in helped.stdout
