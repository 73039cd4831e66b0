# SPDX-License-Identifier: MIT
"""The debug image (Containerfile.ubuntu22, built here on the local Debian
base): gdb and gdbserver inside, the app as the unprivileged user `app`; in
debug mode wrapp starts the app stopped under gdbserver, a batch gdb on the
host connects at _start, breaks in main, and the container exits with the
app's status. Without SYS_PTRACE gdbserver (root) cannot attach to the
app's uid: one line, and the app runs."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import IMAGE_UBUNTU, TESTAPP, free_port, podman, wait_exit, wait_for, logs

GDB = shutil.which("gdb")
APP = ["-v", f"{TESTAPP}:/app/testapp:ro"]


def is_listening(port):
    """A LISTEN socket on port (host network; no probe connection, which
    gdbserver would take for the debugger)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            if int(f[1].split(":")[1], 16) == port and f[3] == "0A":
                return True
    return False


def test_image_has_gdb_gdbserver_and_an_unprivileged_app_user():
    cfg = json.loads(podman("image", "inspect", IMAGE_UBUNTU, check=True).stdout)[0]["Config"]
    assert cfg["Entrypoint"] == ["/usr/local/bin/wrapp"]
    assert "WRAPP_USER=app" in cfg["Env"]
    r = podman("run", "--rm", "--network=none", "--entrypoint", "/bin/sh", IMAGE_UBUNTU, "-c",
               "gdb --version | head -1; gdbserver --version | head -1; id app; "
               "/usr/local/bin/wrapp --version", check=True)
    assert re.search(r"^GNU gdb ", r.stdout, re.M), r.stdout
    assert re.search(r"^GNU gdbserver ", r.stdout, re.M), r.stdout
    assert "uid=1000(app)" in r.stdout and "_wrapp" in r.stdout, r.stdout


def test_app_runs_as_the_app_user(redis_server):
    r = podman("run", "--rm", "--network=host", *APP, "-e", f"WRAPP_REDIS_URL={redis_server.url}",
               "-e", "WRAPP_STREAM_NAME=u22", IMAGE_UBUNTU, "/app/testapp", "ids", check=True)
    assert "uid=1000 euid=1000 gid=1000" in r.stdout and "USER=app" in r.stdout, r.stdout
    assert "USER=app" in redis_server.messages("logs:app:u22:info")


@pytest.mark.skipif(not GDB, reason="needs gdb on the host")
def test_gdb_on_the_host_connects_to_gdbserver_in_the_container(container):
    port = free_port()
    name = container(IMAGE_UBUNTU, *APP, "--cap-add=SYS_PTRACE", "-e", "WRAPP_DEBUG=1",
                     "-e", f"WRAPP_DEBUG_PORT={port}", app=["/app/testapp", "exit", "7"])
    assert wait_for(lambda: is_listening(port), 20), logs(name)
    out = subprocess.run([GDB, "-batch", "-nx", "-ex", "set sysroot /",
                          "-ex", f"target remote 127.0.0.1:{port}", "-ex", "info registers rip",
                          "-ex", "break main", "-ex", "continue", "-ex", "bt", "-ex", "continue",
                          TESTAPP], capture_output=True, text=True, timeout=60).stdout
    assert wait_exit(name) == 7, logs(name)
    assert "in _start ()" in out, out
    assert "Breakpoint 1, " in out and " in main ()" in out, out
    assert re.search(r"DEBUG MODE: app \(pid \d+\) stopped at its first instruction", logs(name))


def test_debug_without_sys_ptrace_says_so_and_the_app_runs():
    r = podman("run", "--rm", "--network=host", *APP, "-e", "WRAPP_DEBUG=1",
               "-e", f"WRAPP_DEBUG_PORT={free_port()}", IMAGE_UBUNTU, "/app/testapp", "exit", "7",
               timeout=60)
    assert r.returncode == 7, r.stderr
    assert "Operation not permitted" in r.stderr, r.stderr
    assert r.stderr.count("gdbserver exited (status 1) before attaching to the app") == 1, r.stderr
    assert "DEBUG MODE" not in r.stderr
