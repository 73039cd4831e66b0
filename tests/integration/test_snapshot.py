# SPDX-License-Identifier: MIT
"""Live snapshots on demand: `wrapp snapshot` asks the running wrapp over its
control socket, or, as a sidecar, seizes a process wrapp did not start. The
app keeps running and exits normally."""
import json
import os
import subprocess
import time
import uuid

from conftest import WRAPP, wait_for
from test_crash import CRASHAPP, reports


def sock_path():
    return "/tmp/wrapp-test-%s.sock" % uuid.uuid4().hex[:12]


def snapshot(*args, env=None, user=None):
    cmd = ([] if user is None else ["setpriv", "--reuid", user, "--regid", "nogroup",
                                    "--clear-groups"]) + [WRAPP, "snapshot"] + list(args)
    return subprocess.run(cmd, env=dict(os.environ, **(env or {})), capture_output=True,
                          text=True, timeout=30)


def test_snapshot_of_a_running_app_through_the_control_socket(start_wrapp, tmp_path):
    sock = sock_path()
    w = start_wrapp(["--", CRASHAPP, "park", "8", "3"],
                    env={"WRAPP_CONTROL": sock, "WRAPP_CRASH_DIR": str(tmp_path / "crashes")})
    assert w.proc.stdout.readline().startswith(b"parked")
    assert wait_for(lambda: os.path.exists(sock), 5), "no control socket"
    time.sleep(0.3)  # the threads reach pause()
    r = snapshot(env={"WRAPP_CONTROL": sock})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok ") and "stopped" in r.stdout
    stopped_ms = float(r.stdout.split("stopped ")[1].split()[0])
    assert stopped_ms < 1000
    (_, rep), = reports(tmp_path)
    assert rep["kind"] == "snapshot" and "signal" not in rep
    assert len(rep["threads"]) == 9 and not any(t["crashed"] for t in rep["threads"])
    parked = [t for t in rep["threads"] if any(f.get("function") == "hog_thread" for f in t["frames"])]
    assert len(parked) == 8
    # The app was only paused: it goes on and exits normally.
    done = w.wait(20)
    assert done.returncode == 0, done.stderr
    assert not os.path.exists(sock)


def test_the_control_socket_refuses_other_users(start_wrapp, tmp_path):
    sock = sock_path()
    start_wrapp(["--", CRASHAPP, "park", "1", "3"],
                env={"WRAPP_CONTROL": sock, "WRAPP_CRASH_DIR": str(tmp_path / "crashes")})
    assert wait_for(lambda: os.path.exists(sock), 5)
    r = snapshot(env={"WRAPP_CONTROL": sock}, user="nobody")
    assert r.returncode == 1 and "only root and the app's user" in r.stderr
    assert reports(tmp_path) == []


def test_snapshot_as_a_sidecar_of_a_process_wrapp_did_not_start(tmp_path):
    p = subprocess.Popen([CRASHAPP, "park", "3", "3"], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("parked")
        r = snapshot("--pid", str(p.pid), "--socket", "/nonexistent.sock",
                     env={"WRAPP_CRASH_DIR": str(tmp_path / "crashes")})
        assert r.returncode == 0, r.stderr
        (_, rep), = reports(tmp_path)
        assert rep["kind"] == "snapshot" and rep["pid"] == p.pid and len(rep["threads"]) == 4
        assert p.wait(20) == 0
    finally:
        p.kill()


def test_snapshot_without_a_wrapp_says_so():
    r = snapshot("--socket", "/nonexistent.sock")
    assert r.returncode == 1 and "no wrapp answers" in r.stderr
    assert r.stderr.count("\n") == 1


def test_snapshot_asked_for_through_redis(start_wrapp, redis_server, tmp_path):
    from conftest import entries
    cfg = tmp_path / "c.json"
    cfg.write_text('{"output": {"spool_dir": "%s"}}' % (tmp_path / "spool"))
    w = start_wrapp(["-c", str(cfg), "--", CRASHAPP, "park", "2", "4"],
                    env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "parked",
                         "WRAPP_CONTROL": sock_path(),
                         "WRAPP_CRASH_DIR": str(tmp_path / "crashes")})
    logs = redis_server.client()
    assert wait_for(lambda: any(b"parked" in f["message"]
                                for _, f in entries(logs, "logs:app:parked:info")), 10)
    ctl = redis_server.client(db=5)
    time_ok = wait_for(lambda: ctl.xadd("wrapp:parked:control", {"command": "rm -rf /"}) and
                       any(b"ignored" in f["message"]
                           for _, f in entries(logs, "logs:app:parked:error")), 5)
    assert time_ok, "the control stream is not read"
    assert reports(tmp_path) == []
    ctl.xadd("wrapp:parked:control", {"command": "snapshot"})
    assert wait_for(lambda: len(reports(tmp_path)) == 1, 10)
    (_, rep), = reports(tmp_path)
    assert rep["kind"] == "snapshot" and len(rep["threads"]) == 3
    assert wait_for(lambda: any(b"snapshot" in f["message"] and b"stopped" in f["message"]
                                for _, f in entries(logs, "logs:app:parked:status")), 10)
    crash = entries(logs, "logs:app:parked:crash")
    assert crash and crash[-1][1]["signal"] == b"snapshot"
    assert w.wait(20).returncode == 0
