# SPDX-License-Identifier: MIT
"""Debug mode (debug.enabled / WRAPP_DEBUG): the app stops before its first
instruction under the real gdbserver, a real gdb in batch mode connects at
_start, breaks in main, and the app's exit status is still wrapp's; a busy
port, a missing gdbserver, debug.wait_seconds and gdbserver dying first all
let the app run (or kill it, with debug.after_gdbserver "kill")."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import free_port, wait_for

CRASHAPP = os.environ.get("CRASHAPP", os.path.join(os.path.dirname(__file__),
                                                   "../../build/crashapp"))
TESTAPP = os.environ.get("TESTAPP", os.path.join(os.path.dirname(__file__),
                                                 "../../build/testapp"))
GDB = shutil.which("gdb")
GDBSERVER = shutil.which("gdbserver")

pytestmark = [pytest.mark.needs_ptrace,
              pytest.mark.skipif(not GDB or not GDBSERVER, reason="needs gdb and gdbserver")]


def is_listening(port):
    """A LISTEN socket on port in this network namespace (no probe connection:
    gdbserver would take it for the debugger)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if int(f[1].split(":")[1], 16) == port and f[3] == "0A":
                return True
    return False


def start_debug(start_wrapp, app_args, port, cfg=None, env=None):
    e = {"WRAPP_DEBUG": "1", "WRAPP_DEBUG_PORT": str(port)}
    e.update(env or {})
    args = (["-c", str(cfg)] if cfg else []) + ["--"] + app_args
    return start_wrapp(args, env=e)


def gdb_batch(app, port, *cmds):
    argv = [GDB, "-batch", "-nx", "-ex", "set sysroot /", "-ex", f"target remote 127.0.0.1:{port}"]
    for c in cmds:
        argv += ["-ex", c]
    return subprocess.run(argv + [app], capture_output=True, text=True, timeout=60).stdout


def children(pid):
    """Every thread's children (gdbserver is forked by the supervisor's thread)."""
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return out


def test_gdb_connects_at_start_breaks_in_main_and_wrapp_exits_with_the_apps_code(start_wrapp):
    port = free_port()
    w = start_debug(start_wrapp, [TESTAPP, "exit", "7"], port)
    assert wait_for(lambda: is_listening(port), 10), "gdbserver is not listening"
    out = gdb_batch(TESTAPP, port, "info registers rip", "break main", "continue", "bt",
                    "continue")
    r = w.wait(30)
    assert "in _start ()" in out, out
    assert "<_start>" in out, out
    assert "Breakpoint 1, " in out and " in main ()" in out, out
    assert r.returncode == 7, r.stderr
    assert re.search(r"DEBUG MODE: app \(pid \d+\) stopped at its first instruction", r.stderr)
    assert "before the app" not in r.stderr
    assert f"gdb {os.path.realpath(TESTAPP)} -ex 'target remote 127.0.0.1:{port}'" in r.stderr
    assert "CLion" in r.stderr and "crash reports are off for this run" in r.stderr
    assert "listens on every interface" in r.stderr


def test_a_dynamic_app_stops_in_the_loaders_start(start_wrapp, tmp_path):
    # A connected client outlasts debug.wait_seconds: gdbserver stays.
    cfg = tmp_path / "debug.json"
    cfg.write_text('{"debug": {"wait_seconds": 1}}')
    port = free_port()
    w = start_debug(start_wrapp, [CRASHAPP, "handled", "1"], port, cfg=cfg)
    assert wait_for(lambda: is_listening(port), 10)
    out = gdb_batch(CRASHAPP, port, "shell sleep 2", "break main", "continue", "continue", "bt")
    r = w.wait(30)
    assert "_start () from /lib64/ld-linux" in out, out
    assert "Breakpoint 1, main" in out, out
    assert r.returncode == 0, r.stderr


def test_busy_port_says_so_once_and_the_app_runs(start_wrapp):
    port = free_port()
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen()
        r = start_debug(start_wrapp, [TESTAPP, "exit", "7"], port).wait(30)
    assert r.returncode == 7, r.stderr
    assert r.stderr.count("gdbserver exited (status 1) before attaching to the app") == 1, r.stderr
    assert "port %d is taken by another process; set debug.port" % port in r.stderr
    assert "DEBUG MODE" not in r.stderr


def test_without_gdbserver_one_line_and_the_app_runs(start_wrapp, tmp_path):
    r = start_debug(start_wrapp, [TESTAPP, "exit", "7"], free_port(),
                    env={"PATH": str(tmp_path)}).wait(30)
    assert r.returncode == 7, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "gdbserver" in ln]
    assert lines == ["wrapp: warn: debug mode: gdbserver not found in PATH; install the gdbserver "
                     "package (Debian/Ubuntu) or use the ubuntu22 image; the app runs without a "
                     "debugger"], r.stderr


def test_no_client_within_wait_seconds_lets_the_app_run(start_wrapp, tmp_path):
    cfg = tmp_path / "debug.json"
    cfg.write_text('{"debug": {"wait_seconds": 1}}')
    r = start_debug(start_wrapp, [TESTAPP, "exit", "7"], free_port(), cfg=cfg).wait(30)
    assert r.returncode == 7, r.stderr
    assert "no debugger connected" in r.stderr


@pytest.mark.parametrize("after,code", [("continue", 0), ("kill", 128 + signal.SIGKILL)])
def test_gdbserver_gone_first_continues_or_kills_the_app(start_wrapp, tmp_path, after, code):
    cfg = tmp_path / "debug.json"
    cfg.write_text('{"debug": {"after_gdbserver": "%s"}}' % after)
    port = free_port()
    # The app outlives gdbserver's death (the kernel resumes it then).
    w = start_debug(start_wrapp, [TESTAPP, "sleep", "2"], port, cfg=cfg)
    assert wait_for(lambda: is_listening(port), 10)

    def server():
        for pid in children(w.host_pid):
            try:
                if os.readlink(f"/proc/{pid}/exe").endswith("gdbserver"):
                    return pid
            except OSError:
                pass
        return None
    pid = wait_for(server, 5)
    assert pid
    # wrapp polls for the attach (every few ms): let it see it first, else
    # this is the "gdbserver died before attaching" case.
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    r = w.wait(30)
    assert r.returncode == code, r.stderr
    assert r.stderr.count("gdbserver exited (status 137) before the app") == 1, r.stderr


# Post-mortem (debug.on_crash / WRAPP_DEBUG_ON_CRASH): the crash is reported,
# then the process waits, stopped, under gdbserver; wrapp still exits with
# the crash signal's status.

def start_postmortem(start_wrapp, tmp_path, app_args, port, cfg=None):
    env = {"WRAPP_DEBUG_ON_CRASH": "1", "WRAPP_DEBUG_PORT": str(port),
           "WRAPP_CRASH_DIR": str(tmp_path / "crashes")}
    args = (["-c", str(cfg)] if cfg else []) + ["--"] + app_args
    return start_wrapp(args, env=env)


def crash_reports(tmp_path):
    d = tmp_path / "crashes"
    return sorted(p for p in d.iterdir() if (p / "report.json").exists()) if d.exists() else []


def frames(bt):
    return re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) \(", bt, re.M)


def test_on_crash_gdb_sees_the_crashed_process_and_wrapp_exits_139(start_wrapp, tmp_path):
    port = free_port()
    w = start_postmortem(start_wrapp, tmp_path, [CRASHAPP, "null"], port)
    assert wait_for(lambda: is_listening(port), 20), "gdbserver is not listening"
    # No continue: the crashing thread is still at the faulting instruction.
    out = gdb_batch(CRASHAPP, port, "bt", "info threads", "kill")
    r = w.wait(30)
    assert frames(out)[:4] == ["crash_null", "level2", "level1", "main"], out
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    assert len(crash_reports(tmp_path)) == 1, r.stderr
    assert re.search(r"POST-MORTEM: pid \d+ \(\S+crashapp\) crashed in thread \d+ with SIGSEGV",
                     r.stderr), r.stderr
    assert r.stderr.count("crashed: SIGSEGV") == 1, r.stderr


def test_on_crash_with_threads_continue_repeats_the_fault_in_the_crashing_thread(start_wrapp,
                                                                                 tmp_path):
    port = free_port()
    w = start_postmortem(start_wrapp, tmp_path, [CRASHAPP, "threads", "4", "2"], port)
    assert wait_for(lambda: is_listening(port), 20), "gdbserver is not listening"
    out = gdb_batch(CRASHAPP, port, "info threads", "handle SIGSTOP SIGCONT nostop noprint nopass",
                    "continue", "bt", "detach")
    r = w.wait(30)
    assert "received signal SIGSEGV" in out, out
    assert frames(out.split("received signal SIGSEGV")[1])[0] == "thread_crash", out
    assert len(re.findall(r"^\*?\s+\d+\s+Thread ", out, re.M)) >= 5, out
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    assert len(crash_reports(tmp_path)) == 1, r.stderr
    assert r.stderr.count("crashed: SIGSEGV") == 1, r.stderr


def test_on_crash_without_a_client_the_process_dies_with_its_signal(start_wrapp, tmp_path):
    cfg = tmp_path / "debug.json"
    cfg.write_text('{"debug": {"wait_seconds": 1}}')
    w = start_postmortem(start_wrapp, tmp_path, [CRASHAPP, "null"], free_port(), cfg=cfg)
    r = w.wait(30)
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    assert "no debugger connected" in r.stderr and "dies with SIGSEGV" in r.stderr, r.stderr
    assert len(crash_reports(tmp_path)) == 1, r.stderr


def test_on_crash_an_abort_reaches_the_debugger_and_wrapp_exits_134(start_wrapp, tmp_path):
    port = free_port()
    w = start_postmortem(start_wrapp, tmp_path, [CRASHAPP, "abort"], port)
    assert wait_for(lambda: is_listening(port), 20), "gdbserver is not listening"
    out = gdb_batch(CRASHAPP, port, "handle SIGSTOP SIGCONT nostop noprint nopass", "continue",
                    "bt", "kill")
    r = w.wait(30)
    assert "received signal SIGABRT" in out, out
    assert "do_abort" in frames(out), out
    assert r.returncode == 128 + signal.SIGABRT, r.stderr


def test_a_snapshot_of_an_app_under_gdbserver_says_to_use_gdb(start_wrapp, tmp_path):
    port, sock = free_port(), str(tmp_path / "ctl.sock")
    w = start_debug(start_wrapp, [TESTAPP, "exit", "7"], port, env={"WRAPP_CONTROL": sock})
    assert wait_for(lambda: is_listening(port), 10), "gdbserver is not listening"
    r = subprocess.run([os.environ.get("WRAPP", os.path.join(os.path.dirname(__file__),
                                                             "../../build/wrapp")), "snapshot"],
                       env={"WRAPP_CONTROL": sock}, capture_output=True, text=True, timeout=20)
    assert r.returncode == 1
    assert "is under gdbserver (debug mode): take it from gdb" in r.stdout + r.stderr
    w.kill(signal.SIGKILL)
