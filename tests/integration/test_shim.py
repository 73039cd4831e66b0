# SPDX-License-Identifier: MIT
"""Shim mode: `wrapp shim install|uninstall|list`, and wrapp running in place
of a tool. Every call through a shim must be indistinguishable from a call of
the real binary: argv byte for byte (argv[0] included), the same fds, exit
status and death by signal; uninstall restores the file exactly. Tools are
copies in a temporary root: the testapp helper, /usr/bin/printf, /bin/cat,
a shell script and a symlink."""
import json
import os
import shutil
import signal
import stat
import subprocess
import time

import pytest

from conftest import TESTAPP, WRAPP, entries, wait_for

TRICKY = [b"a b", b"", b"line1\nline2", b"\xff\xfe non-utf8 \x80", b"--flag", b"'\"$HOME`*",
          b"-", b" ", b"tab\there", "ünï©ødé".encode()]


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WRAPP_", "TINI_"))}
    env.update(extra)
    return env


def wrapp(*args, timeout=30):
    return subprocess.run([WRAPP] + list(args), capture_output=True, timeout=timeout,
                          env=clean_env())


def run(argv, executable=None, timeout=20, **kw):
    kw.setdefault("env", clean_env())
    if "input" not in kw:
        kw.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(argv, executable=executable, capture_output=True, timeout=timeout, **kw)


def meta(path):
    st = os.lstat(path)
    link = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
    return (st.st_ino, st.st_dev, st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_size,
            link)


@pytest.fixture
def root(tmp_path):
    """A bin directory with tools: tapp (testapp), printf, cat, a script, a symlink."""
    b = tmp_path / "bin"
    b.mkdir()
    shutil.copy2(TESTAPP, b / "tapp")
    shutil.copy2(shutil.which("printf") or "/usr/bin/printf", b / "printf")
    shutil.copy2(shutil.which("cat") or "/bin/cat", b / "cat")
    (b / "script").write_text("#!/bin/sh\necho \"script: $# args: $*\"\nexit 7\n")
    os.chmod(b / "script", 0o755)
    os.symlink("tapp", b / "tlink")
    return b


def install(tool, *opts):
    r = wrapp("shim", "install", *opts, str(tool))
    assert r.returncode == 0, r.stderr.decode()
    assert os.path.exists(os.path.join(os.path.dirname(tool), "." + os.path.basename(tool)
                                       + ".wrapp-shim.json"))
    return r


def real_of(tool):
    return os.path.join(os.path.dirname(tool), "." + os.path.basename(tool) + ".wrapp-real")


def assert_same(tool, argv, **kw):
    """argv through the shim and through the real binary (same argv[0]): identical."""
    got = run(argv, executable=str(tool), **kw)
    want = run(argv, executable=real_of(str(tool)), **kw)
    assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr)
    return got


def test_exec_mode_is_byte_exact(root):
    tool = root / "tapp"
    install(tool)
    # Absolute path, and a PATH lookup (argv[0] "tapp", as a shell passes it).
    got = assert_same(tool, [str(tool).encode(), b"args"] + TRICKY)
    lines = got.stdout.decode().split("\n")
    assert bytes.fromhex(lines[0]) == str(tool).encode()
    assert [bytes.fromhex(x) for x in lines[2:-1]] == TRICKY
    env = clean_env(PATH="%s:/usr/bin:/bin" % root)
    via_path = run([b"tapp", b"args"] + TRICKY, env=env)
    assert via_path.stdout.split(b"\n")[0] == b"tapp".hex().encode()
    assert via_path.stdout.split(b"\n")[1:] == got.stdout.split(b"\n")[1:]
    # Environment, cwd, signal state: the caller's.
    env = clean_env(WRAPP_TEST_VAR="x y")
    assert_same(tool, ["tapp", "ids"], env=env, cwd="/")
    assert_same(tool, ["tapp", "sigstate"])
    # Exit codes and an unknown command's stderr.
    for code in (0, 1, 3, 126, 127, 255):
        assert assert_same(tool, ["tapp", "exit", str(code)]).returncode == code
    assert assert_same(tool, ["tapp", "nope"]).returncode == 64


def test_exec_mode_keeps_the_pid_and_dies_by_the_signal(root):
    tool = root / "tapp"
    install(tool)
    p = subprocess.Popen([str(tool), "sleep", "30"], env=clean_env())
    try:
        assert wait_for(lambda: os.readlink("/proc/%d/exe" % p.pid).endswith(".tapp.wrapp-real"),
                        5), "the shim did not exec the real binary in place"
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == -signal.SIGTERM
    finally:
        p.kill()
    assert run([str(tool), "die", "11"]).returncode == -signal.SIGSEGV


def test_printf_cat_script_and_stdin(root):
    for name in ("printf", "cat", "script"):
        install(root / name)
    assert_same(root / "printf", [b"printf", b"%s|%q|%b\n"] + TRICKY)
    assert_same(root / "printf", [b"printf", b"%d\n", b"notanumber"])
    data = bytes(range(256)) * 1000 + b"\nend"
    got = assert_same(root / "cat", [b"cat", b"-", b"-"], input=data)
    assert got.stdout == data
    got = assert_same(root / "script", ["script", "a b", "", "c"])
    assert got.returncode == 7


def test_symlinked_tool_keeps_its_link_and_uninstall_restores_it(root):
    link = root / "tlink"
    before = meta(link)
    install(link)
    assert os.readlink(real_of(str(link))) == "tapp"
    assert os.lstat(real_of(str(link))).st_ino == before[0]
    got = assert_same(link, [str(link), "args", "x"])
    assert bytes.fromhex(got.stdout.split(b"\n")[0].decode()) == str(link).encode()
    r = wrapp("shim", "uninstall", str(link))
    assert r.returncode == 0, r.stderr
    assert meta(link) == before
    assert sorted(os.listdir(root)) == ["cat", "printf", "script", "tapp", "tlink"]


def test_uninstall_restores_inode_mode_owner_and_times(root):
    tool = root / "printf"
    os.chmod(tool, 0o751)
    os.chown(tool, 1234, 5678)
    os.utime(tool, ns=(1_000_000_000_123, 1_500_000_000_456))
    before = meta(tool)
    install(tool)
    shim = os.lstat(tool)
    assert (stat.S_IMODE(shim.st_mode), shim.st_uid, shim.st_gid) == (0o751, 1234, 5678)
    assert shim.st_ino != before[0]
    assert meta(real_of(str(tool)))[:7] == before[:7]
    listed = wrapp("shim", "list", str(root))
    assert listed.returncode == 0
    assert listed.stdout.decode().startswith("%s -> %s" % (tool, real_of(str(tool))))
    r = wrapp("shim", "uninstall", str(tool))
    assert r.returncode == 0, r.stderr
    assert meta(tool) == before
    assert wrapp("shim", "list", str(root)).stdout == b""
    assert sorted(os.listdir(root)) == ["cat", "printf", "script", "tapp", "tlink"]


def test_setuid_bits_are_not_copied_to_the_shim(root):
    tool = root / "tapp"
    os.chmod(tool, 0o4755)
    install(tool)
    assert stat.S_IMODE(os.lstat(tool).st_mode) == 0o755
    assert stat.S_IMODE(os.lstat(real_of(str(tool))).st_mode) == 0o4755


def refusal(*args):
    r = wrapp("shim", *args)
    err = r.stderr.decode()
    assert r.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("wrapp: error: shim "), err
    return err


def test_refusals_change_nothing(root, tmp_path):
    files = sorted(os.listdir(root))
    assert "no such file" in refusal("install", str(root / "missing"))
    assert "does not exist" in refusal("install", str(tmp_path / "nodir" / "x"))
    assert "not a shim" in refusal("uninstall", str(root / "tapp"))
    os.symlink("nowhere", root / "dangling")
    assert "symlink to nothing" in refusal("install", str(root / "dangling"))
    os.unlink(root / "dangling")
    assert sorted(os.listdir(root)) == files
    install(root / "tapp")
    files = sorted(os.listdir(root))
    before = meta(root / "tapp")
    assert "already a shim" in refusal("install", str(root / "tapp"))
    assert "this wrapp binary" in refusal("install", WRAPP)
    assert sorted(os.listdir(root)) == files and meta(root / "tapp") == before


def test_read_only_directory_is_refused(root):
    unshare = shutil.which("unshare")
    script = ("mount --bind {d} {d} && mount -o remount,bind,ro {d} && "
              "exec {w} shim install {d}/tapp").format(d=root, w=WRAPP)
    r = subprocess.run([unshare, "--mount", "sh", "-c", script], capture_output=True,
                       timeout=30, env=clean_env())
    if b"mount" in r.stderr and r.returncode != 2:
        pytest.skip("cannot make a read-only bind mount here: %s" % r.stderr)
    assert r.returncode == 2, r.stderr
    assert b"read-only" in r.stderr and r.stderr.count(b"\n") == 1
    assert not os.path.exists(real_of(str(root / "tapp")))


def test_failed_verification_rolls_back(root):
    # A tool whose --version differs on every run (its pid): not verifiable.
    tool = root / "pid"
    tool.write_text("#!/bin/sh\necho $$\n")
    os.chmod(tool, 0o755)
    before = meta(tool)
    r = wrapp("shim", "install", str(tool))
    assert r.returncode == 1
    assert b"rolled back" in r.stderr
    assert meta(tool) == before
    assert sorted(os.listdir(root)) == ["cat", "pid", "printf", "script", "tapp", "tlink"]
    # --no-verify installs it anyway.
    r = wrapp("shim", "install", "--no-verify", str(tool))
    assert r.returncode == 0, r.stderr


def test_wrapp_under_another_name_stays_an_init(tmp_path):
    tini = tmp_path / "tini"
    shutil.copy2(WRAPP, tini)
    r = run([str(tini), "--version"])
    assert r.returncode == 0 and r.stdout.startswith(b"tini version")
    r = run([str(tini), "--", TESTAPP, "exit", "4"])
    assert r.returncode == 4


def shim_config(tmp_path, url, stream=None):
    cfg = tmp_path / "shim-wrapp.json"
    c = {"redis": {"url": url}, "output": {"spool_dir": str(tmp_path / "spool")},
         "crash": {"dir": str(tmp_path / "crashes")}}
    if stream:
        c["app"] = {"stream_name": stream}
    cfg.write_text(json.dumps(c))
    return cfg


def shim_records(redis_server, key="logs:app:tapp:info"):
    out = []
    for _, f in entries(redis_server.client(), key):
        if f.get("event") == b"shim":
            out.append((f["message"].decode(), json.loads(f["json"])))
    return out


def test_invocation_records_reach_redis(root, tmp_path, redis_server):
    tool = root / "tapp"
    cfg = shim_config(tmp_path, redis_server.url)
    install(tool, "--config", str(cfg), "--append", "--extra", "--append", "v a l")
    n0 = len(shim_records(redis_server))  # the install's own check is recorded too
    r = run([str(tool), "args", "x y", "\xff".encode("latin-1")], cwd=str(tmp_path))
    assert r.returncode == 0
    assert [bytes.fromhex(x) for x in r.stdout.decode().split()][1:] == \
        [b"args", b"x y", b"\xff", b"--extra", b"v a l"]
    assert r.stderr == b""
    recs = shim_records(redis_server)[n0:]
    assert len(recs) == 1
    msg, rec = recs[0]
    assert rec["event"] == "shim" and rec["tool"] == str(tool) and rec["exit_code"] == 0
    assert rec["argv"][:3] == [str(tool), "args", "x y"] and rec["appended"] == 2
    assert bytes.fromhex(rec["argv_hex"][3]) == b"\xff"
    assert rec["cwd"] == str(tmp_path) and rec["uid"] == os.getuid()
    assert "exit 0" in msg
    # Death by signal: reproduced for the caller, recorded in Redis.
    r = run([str(tool), "die", "15"])
    assert r.returncode == -signal.SIGTERM
    assert shim_records(redis_server)[-1][1]["signal"] == "SIGTERM"


def test_parent_mode_forwards_signals_and_exit_status(root, tmp_path, redis_server):
    tool = root / "tapp"
    install(tool, "--config", str(shim_config(tmp_path, redis_server.url)))
    assert run([str(tool), "exit", "42"]).returncode == 42
    rec = tmp_path / "sigs"
    p = subprocess.Popen([str(tool), "sigrecord", str(rec)], env=clean_env())
    try:
        assert wait_for(lambda: os.path.exists(str(rec) + ".ready"), 10)
        p.send_signal(signal.SIGUSR1)
        assert wait_for(lambda: os.path.exists(rec) and rec.read_text().strip(), 5)
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0  # sigrecord exits 0 on SIGTERM
        sigs = [int(line.split()[0]) for line in rec.read_text().split("\n") if line]
        assert sigs == [signal.SIGUSR1, signal.SIGTERM]
    finally:
        p.kill()
    p = subprocess.Popen([str(tool), "sleep", "30"], env=clean_env())
    try:
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        assert p.wait(10) == -signal.SIGINT
    finally:
        p.kill()
    assert shim_records(redis_server)[-1][1]["signal"] == "SIGINT"


def test_redis_down_never_blocks_or_fails_the_call(root, tmp_path, redis_server):
    tool = root / "tapp"
    install(tool, "--config", str(shim_config(tmp_path, redis_server.url)))
    redis_server.kill()
    t0 = time.monotonic()
    got = assert_same(tool, [str(tool), "args", "a b"])
    assert got.stderr == b"" and time.monotonic() - t0 < 5


def test_log_start_records_before_the_exec(root, tmp_path, redis_server):
    tool = root / "tapp"
    install(tool, "--config", str(shim_config(tmp_path, redis_server.url, "mytool")), "--log",
            "start", "--log-key", "shims:calls")
    p = subprocess.Popen([str(tool), "sleep", "30"], env=clean_env())
    try:
        assert wait_for(lambda: os.readlink("/proc/%d/exe" % p.pid).endswith(".tapp.wrapp-real"),
                        5)
        recs = wait_for(lambda: shim_records(redis_server, "shims:calls"), 5)
        assert recs[-1][1]["pid"] == p.pid and "exit_code" not in recs[-1][1]
    finally:
        p.kill()
        p.wait(5)


@pytest.mark.needs_ptrace
def test_supervised_shim_reports_crashes_and_keeps_the_status(root, tmp_path, redis_server):
    tool = root / "tapp"
    install(tool, "--config", str(shim_config(tmp_path, redis_server.url)), "--supervise")
    got = run([str(tool), "args", "p q"])
    assert got.returncode == 0
    assert [bytes.fromhex(x) for x in got.stdout.decode().split()] == \
        [str(tool).encode(), b"args", b"p q"]
    r = run([str(tool), "die", "segv"], timeout=60)
    assert r.returncode == -signal.SIGSEGV
    crash = wait_for(lambda: entries(redis_server.client(), "logs:app:tapp:crash"), 20)
    assert crash, "no crash report in Redis"
    assert shim_records(redis_server)[-1][1]["signal"] == "SIGSEGV"
