# SPDX-License-Identifier: MIT
"""How the app is started: byte-exact arguments, environment, cwd, user
switching (also in a bare root with only /etc/passwd and /etc/group), stdin
and the terminal."""
import fcntl
import os
import pty
import shutil
import signal
import subprocess
import termios
import time

import pytest

from conftest import UNSHARE, WRAPP, wait_for

ODD_ARGS = ["", " a  b ", "\n", "-dash", "--x=y", "é\u00e9", "$HOME", "'\"\\", "*", "-"]


def hexargs(out):
    return [bytes.fromhex(l).decode() for l in out.splitlines()]


def test_arguments_are_byte_exact(run_wrapp, testapp):
    r = run_wrapp(["--", testapp, "args"] + ODD_ARGS)
    assert hexargs(r.stdout) == [testapp, "args"] + ODD_ARGS


def test_arguments_without_dashdash(run_wrapp, testapp):
    r = run_wrapp([testapp, "args", "-v", "--help"])
    assert hexargs(r.stdout) == [testapp, "args", "-v", "--help"]


def test_argv0_is_the_name_as_written(run_wrapp, testapp):
    d = os.path.dirname(testapp)
    r = run_wrapp(["--", "testapp", "args"], env={"PATH": d})
    assert hexargs(r.stdout)[0] == "testapp"


def test_environment_is_inherited_and_cwd_kept(run_wrapp, testapp, tmp_path):
    r = run_wrapp(["--", testapp, "ids"], env={"WRAPP_TEST_VAR": "x y"}, cwd=str(tmp_path))
    assert "WRAPP_TEST_VAR=x y" in r.stdout
    assert f"cwd={tmp_path}" in r.stdout


def test_stdin_is_inherited(testapp):
    r = subprocess.run(UNSHARE + [WRAPP, "--", "sh", "-c",
                        "read x; echo got:$x"], input=b"hello\n", stdout=subprocess.PIPE,
                       timeout=10)
    assert r.stdout == b"got:hello\n"


def test_user_switch_by_name_with_exact_args(run_wrapp, testapp):
    r = run_wrapp(["--user", "nobody", "--", testapp, "ids"])
    assert "uid=65534 euid=65534" in r.stdout, r.stderr
    assert "USER=nobody" in r.stdout and "LOGNAME=nobody" in r.stdout
    assert "HOME=/nonexistent" in r.stdout
    r = run_wrapp(["--user", "nobody", "--", testapp, "args"] + ODD_ARGS)
    assert hexargs(r.stdout)[2:] == ODD_ARGS


def test_user_switch_numeric_without_passwd_entry(run_wrapp, testapp):
    r = run_wrapp(["--user", "4321:8765", "--", testapp, "ids"])
    assert "uid=4321 euid=4321 gid=8765 egid=8765" in r.stdout, r.stderr
    assert "groups=8765\n" in r.stdout
    assert "HOME=/\n" in r.stdout


def test_unknown_user_is_a_config_error(run_wrapp, testapp):
    r = run_wrapp(["--user", "no-such-user-q", "--", testapp, "exit", "0"])
    assert r.returncode == 2
    assert 'user "no-such-user-q" not in /etc/passwd' in r.stderr


def test_workdir(run_wrapp, testapp, tmp_path):
    r = run_wrapp(["--workdir", str(tmp_path), "--", testapp, "ids"])
    assert f"cwd={tmp_path}" in r.stdout
    r = run_wrapp(["--workdir", "/nonexistent-dir", "--", testapp, "ids"])
    assert r.returncode == 126 and "/nonexistent-dir" in r.stderr


@pytest.fixture
def bare_root(tmp_path, testapp):
    """A FROM-scratch-like root: the two static binaries, passwd and group."""
    root = tmp_path / "root"
    for d in ["etc", "proc", "tmp", "home/archer"]:
        (root / d).mkdir(parents=True)
    shutil.copy(WRAPP, root / "wrapp")
    shutil.copy(testapp, root / "testapp")
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                     "archer:x:1000:1000:Archer:/home/archer:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\narcher:x:1000:\nvideo:x:44:archer,other\n"
                                    "audio:x:29:other\n")
    return root


def test_user_switch_in_bare_root(bare_root):
    cmd = UNSHARE + [f"--root={bare_root}", "/wrapp",
           "--user", "archer", "--", "/testapp", "ids"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10,
                       env={"PATH": "/"})
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert "uid=1000 euid=1000 gid=1000 egid=1000" in out
    groups = [l for l in out.splitlines() if l.startswith("groups=")][0]
    assert sorted(groups[7:].split(",")) == ["1000", "44"]
    assert "HOME=/home/archer" in out and "USER=archer" in out


def test_group_override_in_bare_root(bare_root):
    cmd = UNSHARE + [f"--root={bare_root}", "/wrapp",
           "--user", "archer:audio", "--", "/testapp", "ids"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=10, env={})
    assert "gid=29 egid=29" in r.stdout.decode()


def _pty_wrapp(args):
    master, slave = pty.openpty()

    def preexec():
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    p = subprocess.Popen(UNSHARE + [WRAPP] + args,
                         stdin=slave, stdout=slave, stderr=slave, preexec_fn=preexec)
    os.close(slave)
    return p, master


def _read_all(master, p, timeout=10):
    out = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    p.wait(timeout)
    return out.decode(errors="replace")


def test_tty_child_is_the_foreground_process_group(testapp):
    p, master = _pty_wrapp(["--", testapp, "tty"])
    out = _read_all(master, p)
    assert "isatty=1 fg=1" in out, out
    assert p.returncode == 0


def test_ctrl_c_on_the_terminal_ends_the_app_with_130(testapp):
    p, master = _pty_wrapp(["--", testapp, "sleep", "30"])
    time.sleep(0.5)
    os.write(master, b"\x03")
    _read_all(master, p)
    assert p.returncode == 130


def test_interactive_shell_has_job_control(testapp):
    p, master = _pty_wrapp(["--", "bash", "--norc", "--noprofile", "-i"])
    time.sleep(0.5)
    os.write(master, b"case $- in *m*) echo JOBCTL-ON;; *) echo JOBCTL-OFF;; esac; exit 5\n")
    out = _read_all(master, p)
    assert "JOBCTL-ON" in out, out
    assert "cannot set terminal process group" not in out
    assert p.returncode == 5


def test_inherited_fds_go_to_the_app_and_wrapp_lets_go_of_them(testapp):
    # A pipe's write end handed to wrapp as fd 3: the app gets it; once the
    # app closes it, the reader sees EOF although wrapp still runs (wrapp
    # closed its own copy after starting the app).
    r_fd, w_fd = os.pipe()
    os.set_inheritable(w_fd, True)
    # wrapp as a plain process: unshare --fork would keep its own copy open.
    p = subprocess.Popen([WRAPP, "--", "bash", "-c",
                           f"echo from-app >&{w_fd}; exec {w_fd}>&-; sleep 3"],
                         pass_fds=[w_fd])
    os.close(w_fd)
    t0 = time.monotonic()
    data = b""
    while True:
        chunk = os.read(r_fd, 100)
        if not chunk:
            break
        data += chunk
    took = time.monotonic() - t0
    p.wait(10)
    os.close(r_fd)
    assert data == b"from-app\n"
    assert took < 2, f"EOF only after {took:.1f} s: wrapp kept the inherited fd open"
