# SPDX-License-Identifier: MIT
"""The app's seccomp policy (the config's seccomp section): real filters in
the real kernel. Each action is checked by what the app observes (errno,
death by SIGSYS, success) and by the entry in logs:app:<stream>:error with a
backtrace naming the app's function; log-only's generated allow-list is
itself run as a policy."""
import json
import os
import re

from conftest import entries

BUILD = os.path.join(os.path.dirname(__file__), "../../build")
CRASHAPP = os.path.realpath(os.path.join(BUILD, "crashapp"))
EXAMPLES = os.path.join(os.path.dirname(__file__), "../../examples/seccomp")
NOPTRACE = os.path.join(BUILD, "noptrace")


def run_policy(run_wrapp, redis_server, tmp_path, policy, args, stream="app", env=None,
               timeout=30, prefix=()):
    cfg = tmp_path / ("%s.json" % stream)
    cfg.write_text(json.dumps({"seccomp": policy,
                               "output": {"spool_dir": str(tmp_path / "spool")}}))
    e = {"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": stream}
    e.update(env or {})
    return run_wrapp(["-c", str(cfg), "--"] + args, env=e, timeout=timeout, prefix=prefix)


def outcomes(stdout):
    return dict(line.split(" ", 1) for line in stdout.splitlines() if " " in line)


def reports(redis_server, stream="app"):
    return [(f["message"].decode(), json.loads(f["report"]))
            for _, f in entries(redis_server.client(), "logs:app:%s:error" % stream)
            if f.get("kind") == b"seccomp"]


def functions(report):
    return [f.get("function") for f in report["thread"]["frames"]]


def test_each_action_as_the_app_sees_it_and_reported_with_a_backtrace(run_wrapp, redis_server,
                                                                     tmp_path):
    policy = {"default": "allow", "rules": [
        {"syscall": "mkdir", "action": "report"},
        {"syscall": "socket", "action": "errno:EAFNOSUPPORT",
         "args": [{"arg": 0, "op": "==", "value": 17}]},
        {"syscall": "unshare", "action": "report:EACCES"},
        {"syscall": "ptrace", "action": "errno:ENOSYS"},
    ]}
    r = run_policy(run_wrapp, redis_server, tmp_path, policy,
                   [CRASHAPP, "syscalls", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    assert outcomes(r.stdout) == {"mkdir": "errno EPERM", "socket": "errno EAFNOSUPPORT",
                                  "unshare": "errno EACCES", "ptrace": "errno ENOSYS"}
    assert not (tmp_path / "made").exists()
    reps = reports(redis_server)
    assert [rep["syscall"] for _, rep in reps] == ["mkdir", "unshare"]
    (m_msg, m_rep), (u_msg, u_rep) = reps
    assert re.fullmatch(r'seccomp: mkdir\("%s/made", 0x1ed\) denied in crashapp \(tid \d+\) '
                        r'at make_dir' % re.escape(str(tmp_path)), m_msg), m_msg
    assert m_rep["errno"] == "EPERM" and m_rep["action"] == "report"
    assert m_rep["path"] == str(tmp_path / "made")
    assert functions(m_rep)[1:4] == ["make_dir", "syscalls", "main"]
    assert u_msg.startswith("seccomp: unshare(0x4000000) denied in crashapp")
    assert u_msg.endswith(" at new_uts") and u_rep["errno"] == "EACCES"
    assert "new_uts" in functions(u_rep)
    assert "seccomp: mkdir(" in r.stderr  # also on wrapp's stderr


def test_kill_dies_of_sigsys_and_is_reported_from_the_exit_stop(run_wrapp, redis_server,
                                                                tmp_path):
    policy = {"rules": [{"syscall": "unshare", "action": "kill"}]}
    r = run_policy(run_wrapp, redis_server, tmp_path, policy,
                   [CRASHAPP, "syscalls", str(tmp_path)])
    assert r.returncode == 128 + 31, (r.returncode, r.stderr)
    assert outcomes(r.stdout) == {"mkdir": "ok", "socket": "ok"}
    [(msg, rep)] = reports(redis_server)
    assert re.fullmatch(r"seccomp: unshare\(0x4000000\) killed the process in crashapp "
                        r"\(tid \d+\) at new_uts", msg), msg
    assert rep["signal"] == "SIGSYS" and "new_uts" in functions(rep)


def test_filter_still_applies_after_the_app_execs(run_wrapp, redis_server, tmp_path):
    policy = {"rules": [{"syscall": "mkdir", "action": "report"}]}
    r = run_policy(run_wrapp, redis_server, tmp_path, policy,
                   ["sh", "-c", "exec %s syscalls %s" % (CRASHAPP, tmp_path)])
    assert outcomes(r.stdout)["mkdir"] == "errno EPERM"
    [(msg, rep)] = reports(redis_server)
    assert msg.endswith(" at make_dir") and rep["exe"] == CRASHAPP


def test_repeats_are_counted_not_reported_each_time(run_wrapp, redis_server, tmp_path):
    policy = {"rules": [{"syscall": "mkdir", "action": "report"}]}
    r = run_policy(run_wrapp, redis_server, tmp_path, policy,
                   [CRASHAPP, "syscalls", str(tmp_path), "50"])
    assert r.stdout.count("mkdir errno EPERM") == 50
    reps = reports(redis_server)
    assert len(reps) == 1
    lines = [f["message"].decode() for _, f in entries(redis_server.client(),
                                                       "logs:app:app:status")]
    assert "seccomp: mkdir denied 49 more times since its last report" in lines


def test_log_only_lets_everything_run_and_its_allow_list_is_enough(run_wrapp, redis_server,
                                                                   tmp_path):
    r = run_policy(run_wrapp, redis_server, tmp_path, {"default": "log-only"},
                   [CRASHAPP, "syscalls", str(tmp_path)], stream="audit")
    assert r.returncode == 0, r.stderr
    # (PTRACE_TRACEME fails anyway: the app is already traced, by wrapp.)
    assert outcomes(r.stdout) == {"mkdir": "ok", "socket": "ok", "unshare": "ok",
                                  "ptrace": "errno EPERM"}
    assert (tmp_path / "made").is_dir()
    seen = {rep["syscall"] for _, rep in reports(redis_server, "audit")}
    assert {"mkdir", "socket", "unshare", "ptrace", "execve"} <= seen
    assert all(rep["action"] == "log-only" for _, rep in reports(redis_server, "audit"))
    status = [f["message"].decode() for _, f in entries(redis_server.client(),
                                                        "logs:app:audit:status")]
    [summary] = [s for s in status if s.startswith("seccomp log-only: ")]
    allow = json.loads(summary[summary.index("{"):])
    [rule] = allow["seccomp"]["rules"]
    assert allow["seccomp"]["default"] == "errno:EPERM" and rule["action"] == "allow"
    assert {"mkdir", "socket", "unshare", "ptrace"} <= set(rule["syscalls"])
    # The generated policy, as is, runs the same app with nothing denied.
    (tmp_path / "made").rmdir()
    r2 = run_policy(run_wrapp, redis_server, tmp_path, allow["seccomp"],
                    [CRASHAPP, "syscalls", str(tmp_path)], stream="enforced")
    assert r2.returncode == 0, r2.stderr
    assert outcomes(r2.stdout) == {"mkdir": "ok", "socket": "ok", "unshare": "ok",
                                   "ptrace": "errno EPERM"}
    assert reports(redis_server, "enforced") == []


def test_without_the_supervisor_report_falls_back_to_its_errno(run_wrapp, redis_server,
                                                               tmp_path):
    policy = {"rules": [{"syscall": "mkdir", "action": "report:EACCES"}]}
    # ptrace refused to wrapp (a container's seccomp profile), and crash.scope "main".
    r = run_policy(run_wrapp, redis_server, tmp_path, policy,
                   [CRASHAPP, "syscalls", str(tmp_path)], prefix=[NOPTRACE])
    assert r.returncode == 0, r.stderr
    assert outcomes(r.stdout)["mkdir"] == "errno EACCES"
    assert "\"report\" acts as its errno" in r.stderr
    cfg = tmp_path / "main.json"
    cfg.write_text(json.dumps({"seccomp": policy, "crash": {"scope": "main"}}))
    r = run_wrapp(["-c", str(cfg), "--", CRASHAPP, "syscalls", str(tmp_path)],
                  env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "app"})
    assert outcomes(r.stdout)["mkdir"] == "errno EACCES"
    assert "\"report\" acts as its errno" in r.stderr
    assert reports(redis_server) == []


def test_bad_policies_are_config_errors_naming_the_rule(run_wrapp, redis_server, tmp_path):
    bad = [
        ({"rules": [{"syscall": "mkdirx", "action": "report"}]},
         'seccomp rule 0 ("mkdirx") in seccomp.rules: unknown syscall'),
        ({"rules": [{"syscall": "mkdir", "action": "deny"}]},
         'seccomp rule 0 ("mkdir") in seccomp.rules: "action" must be'),
        ({"rules": [{"syscall": "open", "action": "allow"},
                    {"syscall": "mkdir", "action": "errno:EFOO"}]},
         'seccomp rule 1 ("mkdir")'),
        ({"rules": [{"syscall": "socket", "action": "kill",
                     "args": [{"arg": 9, "op": "==", "value": 1}]}]},
         '"arg": 0..5'),
        ({"default": "maybe"}, 'seccomp "default" in seccomp.default: "maybe" is not an action'),
        ({"profile": str(tmp_path / "missing.json")}, "seccomp profile %s" % (tmp_path / "missing.json")),
    ]
    for policy, message in bad:
        r = run_policy(run_wrapp, redis_server, tmp_path, policy, ["true"])
        assert r.returncode == 2, (policy, r.stderr)
        assert message in r.stderr, (policy, r.stderr)
        assert r.stderr.count("\n") == 1, r.stderr  # one line


def test_shipped_profiles_load_and_deny_what_they_say(run_wrapp, redis_server, tmp_path):
    deny = os.path.join(EXAMPLES, "deny-dangerous.json")
    r = run_wrapp(["--", CRASHAPP, "syscalls", str(tmp_path)],
                  env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "deny",
                       "WRAPP_SECCOMP_PROFILE": deny})
    assert r.returncode == 0, r.stderr
    assert outcomes(r.stdout) == {"mkdir": "ok", "socket": "ok", "unshare": "errno EPERM",
                                  "ptrace": "errno EPERM"}
    assert {rep["syscall"] for _, rep in reports(redis_server, "deny")} == {"unshare", "ptrace"}
    starter = os.path.join(EXAMPLES, "allow-starter.json")
    r = run_wrapp(["--", "sh", "-c", "ls / >/dev/null && cat /etc/hostname >/dev/null && echo ok"],
                  env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "starter",
                       "WRAPP_SECCOMP_PROFILE": starter})
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr
    assert reports(redis_server, "starter") == []
