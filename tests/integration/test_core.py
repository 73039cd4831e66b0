# SPDX-License-Identifier: MIT
"""wrapp's own ELF core, next to the report: real gdb loads it and shows the
signal, the crashing thread's frames (the same as report.json's), every
thread, the registers of the report and a global's value; eu-readelf and
eu-stack accept it; it is sparse, 0600, and obeys crash.core and
crash.core_max_bytes."""
import json
import os
import re
import signal
import stat
import subprocess

import pytest

from conftest import wait_for

CRASHAPP = os.environ.get("CRASHAPP", os.path.join(os.path.dirname(__file__),
                                                   "../../build/crashapp"))
GLOBAL = 0x5eed1234  # crashapp_global in tests/apps/crashapp.c


def crash_dir(tmp_path):
    return tmp_path / "crashes"


def run_crash(run_wrapp, tmp_path, args, app=CRASHAPP, env=None, cfg=None):
    e = {"WRAPP_CRASH_DIR": str(crash_dir(tmp_path))}
    e.update(env or {})
    pre = []
    if cfg:
        path = tmp_path / "c.json"
        path.write_text(json.dumps({"crash": cfg}))
        pre = ["-c", str(path)]
    return run_wrapp(pre + ["--", app] + list(args), env=e, timeout=60)


def the_dir(tmp_path):
    subs = sorted(crash_dir(tmp_path).iterdir())
    assert len(subs) == 1, subs
    return subs[0]


def load(tmp_path):
    d = the_dir(tmp_path)
    with open(d / "report.json") as f:
        return d, json.load(f)


def gdb(app, core, *cmds):
    args = ["gdb", "-batch", "-nx"]
    for c in cmds:
        args += ["-ex", c]
    r = subprocess.run(args + [app, str(core)], capture_output=True, text=True, timeout=120)
    return r.stdout + r.stderr


def thread_frames(out):
    """{tid: [function, ...]} from gdb's thread apply all bt."""
    threads, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"Thread \d+ \(.*LWP (\d+)\)", line)
        if m:
            cur = threads.setdefault(int(m.group(1)), [])
            continue
        m = re.match(r"#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", line)
        if m and cur is not None:
            cur.append(m.group(1))
    return threads


def functions(thread):
    return [f.get("function") for f in thread["frames"]]


def check_core(d, rep, app, n_threads):
    core = d / "core"
    st = os.stat(core)
    assert stat.S_IMODE(st.st_mode) == 0o600
    out = gdb(app, core, "thread apply all bt", "info registers rip",
              "print/x crashapp_global", "print $_siginfo.si_signo")
    name = rep["signal"]["name"]
    assert f"Program terminated with signal {name}" in out, out
    threads = thread_frames(out)
    assert len(threads) == n_threads, out
    t0 = rep["threads"][0]
    # The app's own frames (libc's gdb names by inlined and internal
    # aliases: __GI_raise for raise): the same, in the same order.
    want = [f["function"] for f in t0["frames"]
            if f.get("function") and (f.get("module") or "").endswith(os.path.basename(app))]
    if "main" in want:  # gdb stops there
        want = want[:want.index("main") + 1]
    got = [f for f in threads[t0["tid"]] if f in want]
    assert want and got == want, (threads[t0["tid"]], want)
    rip = int(t0["registers"]["rip"], 16)
    assert re.search(r"^rip\s+0x%x\b" % rip, out, re.M), out
    assert "= 0x%x" % GLOBAL in out, out
    assert "= %d" % rep["signal"]["number"] in out, out
    r = subprocess.run(["eu-readelf", "-n", str(core)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    notes = re.findall(r"^\s+(CORE|LINUX)\s+\d+\s+(\S+)", r.stdout, re.M)
    kinds = [k for _, k in notes]
    assert kinds[:5] == ["PRSTATUS", "PRPSINFO", "SIGINFO", "AUXV", "FILE"], kinds
    assert kinds.count("PRSTATUS") == n_threads
    r = subprocess.run(["eu-stack", "--core", str(core), "-e", app], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "TID %d:" % t0["tid"] in r.stdout and want[0] in r.stdout, r.stdout
    return st


def test_null_deref_core_loads_in_gdb_and_elfutils(run_wrapp, tmp_path):
    r = run_crash(run_wrapp, tmp_path, ["null"])
    assert r.returncode == 128 + 11, r.stderr
    assert re.search(r"core \S+/core: \d+ bytes \(\d+ allocated\), 1 threads", r.stderr)
    d, rep = load(tmp_path)
    check_core(d, rep, CRASHAPP, 1)


def test_crash_in_one_of_50_threads_core_has_all_threads(run_wrapp, tmp_path):
    r = run_crash(run_wrapp, tmp_path, ["threads", "50", "7"])
    assert r.returncode == 128 + 11, r.stderr
    d, rep = load(tmp_path)
    check_core(d, rep, CRASHAPP, 51)
    # The crashing thread is gdb's current one.
    out = gdb(CRASHAPP, d / "core", "bt 1")
    assert "thread_crash" in out.split("Program terminated")[1].splitlines()[1], out


def test_abort_core(run_wrapp, tmp_path):
    r = run_crash(run_wrapp, tmp_path, ["abort"])
    assert r.returncode == 128 + 6, r.stderr
    d, rep = load(tmp_path)
    check_core(d, rep, CRASHAPP, 1)


def test_static_app_core(run_wrapp, tmp_path):
    app = CRASHAPP + "-static"
    r = run_crash(run_wrapp, tmp_path, ["null"], app=app)
    assert r.returncode == 128 + 11, r.stderr
    d, rep = load(tmp_path)
    check_core(d, rep, app, 1)


def all_asleep(pid, n):
    """pid has n threads, all sleeping (parked in pause, not being born)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
        states = []
        for t in tids:
            with open(f"/proc/{pid}/task/{t}/stat") as f:
                states.append(f.read().rsplit(")", 1)[1].split()[0])
    except OSError:
        return False
    return len(tids) == n and all(s == "S" for s in states)


def test_big_app_core_is_sparse_and_complete(start_wrapp, tmp_path):
    w = start_wrapp(["--", CRASHAPP, "hog", "256", "8"], pid1=False,
                    env={"WRAPP_CRASH_DIR": str(crash_dir(tmp_path))})
    line = w.proc.stdout.readline().decode()
    assert line.startswith("ready"), line
    pid = int(line.split()[1])
    assert wait_for(lambda: all_asleep(pid, 9)), "the app's threads did not all park"
    os.kill(pid, signal.SIGUSR1)
    r = w.wait(timeout=120)
    assert r.returncode == 128 + 11, r.stderr
    d, rep = load(tmp_path)
    st = check_core(d, rep, CRASHAPP, 9)
    # 256 MiB of random heap are in it; the untouched rest of the address
    # space (thread stacks, arena reservations) is not allocated.
    assert 256 << 20 < st.st_blocks * 512 < 300 << 20, st
    assert st.st_blocks * 512 <= st.st_size


def test_core_off_and_max_bytes(run_wrapp, tmp_path):
    r = run_crash(run_wrapp, tmp_path, ["null"], env={"WRAPP_CORE": "off"})
    assert r.returncode == 139
    assert not (the_dir(tmp_path) / "core").exists()
    assert "/core" not in r.stderr, r.stderr


def test_core_max_bytes_cuts_and_says_so(run_wrapp, tmp_path):
    r = run_crash(run_wrapp, tmp_path, ["null"], cfg={"core_max_bytes": 64 << 10})
    assert r.returncode == 139
    assert "truncated" in r.stderr, r.stderr
    d, rep = load(tmp_path)
    core = d / "core"
    assert os.stat(core).st_size <= 64 << 10
    # Still a core gdb loads, with the registers and the crashing frame.
    out = gdb(CRASHAPP, core, "bt 1")
    assert "Program terminated with signal SIGSEGV" in out
    assert "crash_null" in out, out


def test_a_full_disk_cuts_the_core_and_keeps_the_report(run_wrapp, tmp_path):
    small = crash_dir(tmp_path)
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(small)],
                   check=True)
    try:
        r = run_crash(run_wrapp, tmp_path, ["null"])
        assert r.returncode == 128 + 11, r.stderr
        d, rep = load(tmp_path)
        assert rep["core"]["truncated"] is True, rep.get("core")
        assert "truncated" in r.stderr
        assert rep["threads"][0]["frames"][0]["function"] == "crash_null"
        # What was written is still a core gdb opens.
        out = gdb(CRASHAPP, str(d / "core"), "info threads")
        assert "Program terminated with signal SIGSEGV" in out, out
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_the_report_says_how_big_the_core_is(run_wrapp, tmp_path):
    r = run_crash(run_wrapp, tmp_path, ["null"])
    assert r.returncode == 128 + 11
    d, rep = load(tmp_path)
    st = os.stat(d / "core")
    assert rep["core"] == {"file": "core", "size": st.st_size, "allocated": st.st_blocks * 512,
                           "ms": rep["core"]["ms"], "truncated": False}
    assert stat.S_IMODE(st.st_mode) == 0o600
