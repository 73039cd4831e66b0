# SPDX-License-Identifier: MIT
"""Crashes caught by the ptrace supervisor: the report's frames (the test
app's own functions, in order), the local files, the Redis :crash entry, the
exit status the parent sees; handled signals produce nothing; and without
ptrace wrapp says so once and stays a plain init."""
import json
import os
import stat

import pytest

from conftest import entries

CRASHAPP = os.environ.get("CRASHAPP", os.path.join(os.path.dirname(__file__),
                                                   "../../build/crashapp"))
NOPTRACE = os.environ.get("NOPTRACE", os.path.join(os.path.dirname(__file__),
                                                   "../../build/noptrace"))


def crash_run(run_wrapp, tmp_path, args, redis=None, app=CRASHAPP, extra_env=None, **kw):
    env = {"WRAPP_CRASH_DIR": str(tmp_path / "crashes"), "WRAPP_STREAM_NAME": "crashy"}
    if redis:
        env["WRAPP_REDIS_URL"] = redis.url
        cfg = tmp_path / "out.json"
        cfg.write_text('{"output": {"spool_dir": "%s"}}' % (tmp_path / "spool"))
        args = ["-c", str(cfg), "--", app] + list(args)
    else:
        args = ["--", app] + list(args)
    env.update(extra_env or {})
    return run_wrapp(args, env=env, **kw)


def reports(tmp_path):
    d = tmp_path / "crashes"
    if not d.exists():
        return []
    out = []
    for sub in sorted(d.iterdir()):
        with open(sub / "report.json") as f:
            out.append((sub, json.load(f)))
    return out


def the_report(tmp_path):
    rs = reports(tmp_path)
    assert len(rs) == 1, rs
    return rs[0][1]


def functions(thread):
    return [f.get("function") for f in thread["frames"]]


def in_order(names, wanted):
    """wanted appear in names in this order (other frames may sit between)."""
    it = iter(names)
    return all(any(n == w for n in it) for w in wanted)


def test_null_deref_in_main_is_reported_locally_and_in_redis(run_wrapp, redis_server, tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["print", "3", "null"], redis=redis_server)
    assert r.returncode == 128 + 11, r.stderr
    assert "crashed: SIGSEGV (SEGV_MAPERR) at 0x0 in crash_null" in r.stderr
    sub, rep = reports(tmp_path)[0]
    assert stat.S_IMODE(os.stat(sub / "report.json").st_mode) == 0o600
    assert rep["signal"]["name"] == "SIGSEGV" and rep["signal"]["code_name"] == "SEGV_MAPERR"
    assert rep["signal"]["addr"] == "0x0"
    t0 = rep["threads"][0]
    assert t0["crashed"] and t0["tid"] == rep["tid"] == rep["pid"]
    assert functions(t0)[:4] == ["crash_null", "level2", "level1", "main"], t0["frames"]
    top = t0["frames"][0]
    assert top["file"].endswith("crashapp.c") and top["line"] > 0
    assert top["module"].endswith("/crashapp") and top["build_id"]
    assert "rip" in t0["registers"] or "pc" in t0["registers"]
    assert rep["exe"].endswith("/crashapp") and rep["argv"][1:] == ["print", "3", "null"]
    assert rep["last_lines"][-3:] == ["out: line %d before the crash" % i for i in (1, 2, 3)]
    # The same report in Redis, the readable backtrace in message.
    (eid, f), = entries(redis_server.client(), "logs:app:crashy:crash")
    text = f["message"].decode()
    assert "#0" in text and "crash_null" in text and "level1" in text
    assert json.loads(f["report"])["pid"] == rep["pid"]
    assert f["signal"] == b"SIGSEGV"


def test_crash_in_one_of_50_threads_stops_and_unwinds_all(run_wrapp, tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["threads", "50", "7"])
    assert r.returncode == 128 + 11, r.stderr
    rep = the_report(tmp_path)
    assert len(rep["threads"]) == 51
    t0 = rep["threads"][0]
    assert t0["crashed"] and t0["tid"] != rep["pid"]
    assert in_order(functions(t0), ["thread_crash", "thread_work", "thread_main"]), t0["frames"]
    assert rep["signal"]["addr"] == "0x10"
    others = rep["threads"][1:]
    assert not any(t["crashed"] for t in others)
    # Every other thread was stopped and unwound where it was.
    assert all(t["frames"] for t in others)
    main = [t for t in others if t["tid"] == rep["pid"]]
    assert main and in_order(functions(main[0]), ["threads", "main"])


@pytest.mark.parametrize("cmd,sig,code,frames", [
    ("abort", 6, "SI_TKILL", ["do_abort", "main"]),
    ("fpe", 8, "FPE_INTDIV", ["do_divide", "main"]),
    ("trap", 4, "ILL_ILLOPN", ["do_trap", "main"]),
])
def test_abort_divide_by_zero_and_trap(run_wrapp, tmp_path, cmd, sig, code, frames):
    r = crash_run(run_wrapp, tmp_path, [cmd])
    assert r.returncode == 128 + sig, r.stderr
    rep = the_report(tmp_path)
    assert rep["signal"]["number"] == sig and rep["signal"]["code_name"] == code
    assert in_order(functions(rep["threads"][0]), frames), rep["threads"][0]["frames"]


def test_crash_in_a_grandchild_is_reported_and_the_app_goes_on(run_wrapp, tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["grandchild"])
    assert r.returncode == 0, r.stderr
    assert "signal 11" in r.stdout
    rep = the_report(tmp_path)
    assert in_order(functions(rep["threads"][0]),
                    ["crash_null", "level2", "level1", "grandchild", "main"])


def test_scope_main_leaves_other_processes_alone(run_wrapp, tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"crash": {"scope": "main"}}')
    r = run_wrapp(["-c", str(cfg), "--", CRASHAPP, "grandchild"],
                  env={"WRAPP_CRASH_DIR": str(tmp_path / "crashes")})
    assert r.returncode == 0 and "signal 11" in r.stdout
    assert reports(tmp_path) == []


def test_handled_segvs_make_no_report(run_wrapp, redis_server, tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["handled", "1000"], redis=redis_server)
    assert r.returncode == 0, r.stderr
    assert "caught 1000" in r.stdout
    assert reports(tmp_path) == []
    assert entries(redis_server.client(), "logs:app:crashy:crash") == []
    assert "crashed" not in r.stderr


def test_handler_that_reraises_is_reported(run_wrapp, tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["reraise"])
    assert r.returncode == 128 + 11, r.stderr
    rep = the_report(tmp_path)
    assert rep["signal"]["code_name"] == "SI_TKILL"
    # SIGSEGV is blocked in its handler: the re-raised one is delivered when
    # the handler returns, back at the faulting instruction.
    assert in_order(functions(rep["threads"][0]), ["crash_null", "level2", "level1", "reraise"])


@pytest.mark.parametrize("variant", ["static", "musl"])
def test_static_apps_unwind(run_wrapp, tmp_path, variant):
    r = crash_run(run_wrapp, tmp_path, ["null"], app=CRASHAPP + "-" + variant)
    assert r.returncode == 128 + 11, r.stderr
    t0 = the_report(tmp_path)["threads"][0]
    assert functions(t0)[:4] == ["crash_null", "level2", "level1", "main"], t0["frames"]


def test_stack_overflow_is_capped(run_wrapp, tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["recurse"], timeout=60)
    assert r.returncode == 128 + 11, r.stderr
    t0 = the_report(tmp_path)["threads"][0]
    assert len(t0["frames"]) == 256 and t0["truncated"]
    assert set(functions(t0)) == {"recurse"}


def test_retention_keeps_the_newest_reports(run_wrapp, tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"crash": {"keep": 2}}')
    for _ in range(3):
        r = run_wrapp(["-c", str(cfg), "--", CRASHAPP, "null"],
                      env={"WRAPP_CRASH_DIR": str(tmp_path / "crashes")})
        assert r.returncode == 139
    assert len(reports(tmp_path)) == 2


def test_without_ptrace_wrapp_says_so_once_and_stays_an_init(run_wrapp, tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["null"], prefix=[NOPTRACE])
    assert r.returncode == 128 + 11, r.stderr
    lines = [l for l in r.stderr.splitlines() if "crash reports are off" in l]
    assert len(lines) == 1 and "--cap-add=SYS_PTRACE" in lines[0]
    assert reports(tmp_path) == []


def test_crash_supervision_can_be_turned_off(run_wrapp, tmp_path):
    r = crash_run(run_wrapp, tmp_path, ["null"], extra_env={"WRAPP_CRASH": "0"})
    assert r.returncode == 128 + 11
    assert reports(tmp_path) == [] and "crash" not in r.stderr


def test_wrapp_crashes_lists_and_shows_the_reports(run_wrapp, redis_server, tmp_path):
    import subprocess
    from conftest import WRAPP
    r = crash_run(run_wrapp, tmp_path, ["print", "2", "fpe"], redis=redis_server)
    assert r.returncode == 128 + 8
    env = {"PATH": os.environ["PATH"], "WRAPP_REDIS_URL": redis_server.url}
    ls = subprocess.run([WRAPP, "crashes", "--stream", "crashy"], env=env, capture_output=True,
                        text=True, timeout=20)
    assert ls.returncode == 0, ls.stderr
    (line,) = ls.stdout.splitlines()
    eid = line.split()[0]
    assert "SIGFPE" in line and "do_divide" in line and "/crashapp" in line
    show = subprocess.run([WRAPP, "crashes", "--stream", "crashy", "show", eid], env=env,
                          capture_output=True, text=True, timeout=20)
    assert show.returncode == 0, show.stderr
    assert "killed by SIGFPE (FPE_INTDIV" in show.stdout and "#0" in show.stdout
    assert "out: line 2 before the crash" in show.stdout
    js = subprocess.run([WRAPP, "crashes", "--stream", "crashy", "show", eid, "--json"], env=env,
                        capture_output=True, text=True, timeout=20)
    assert json.loads(js.stdout)["signal"]["name"] == "SIGFPE"
    missing = subprocess.run([WRAPP, "crashes", "--stream", "crashy", "show", "1-1"], env=env,
                             capture_output=True, text=True, timeout=20)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1


def test_without_cap_sys_ptrace_an_app_of_another_user_is_still_reported(run_wrapp, tmp_path):
    """The app is seized before it switches to its user, so no capability is
    needed for that; reading it afterwards works without CAP_SYS_PTRACE too."""
    os.chmod(tmp_path, 0o755)
    r = crash_run(run_wrapp, tmp_path, ["null"],
                  prefix=["setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace"],
                  extra_env={"WRAPP_USER": "nobody"})
    assert r.returncode == 128 + 11, r.stderr
    assert "CapEff" not in r.stderr
    rep = the_report(tmp_path)
    assert functions(rep["threads"][0])[:4] == ["crash_null", "level2", "level1", "main"]
    assert rep["exe"].endswith("/crashapp")
