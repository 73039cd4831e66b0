# SPDX-License-Identifier: MIT
"""Process tracking (track.enabled, WRAPP_TRACK): one record per exec and
per process exit in logs:app:<stream>:proc, with a one-line message and the
structured record in the json field; off by default."""
import json
import re
import os
import subprocess

from conftest import entries

BUILD = os.path.join(os.path.dirname(__file__), "../../build")


def run_app(run_wrapp, redis_server, script, tmp_path, stream="app", env=None, timeout=20):
    e = {"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": stream,
         "WRAPP_SPOOL_TEST": "1"}
    e.update(env or {})
    cfg = tmp_path / "out.json"
    cfg.write_text('{"output": {"spool_dir": "%s"}}' % (tmp_path / "spool"))
    return run_wrapp(["-c", str(cfg), "--", "sh", "-c", script], env=e, timeout=timeout)


def records(redis_server, stream="app"):
    out = []
    for _, f in entries(redis_server.client(), "logs:app:%s:proc" % stream):
        rec = json.loads(f["json"])
        assert f["event"].decode() == rec["event"]
        out.append((f["message"].decode(), rec))
    return out


def execs(recs):
    return [r for _, r in recs if r["event"] == "exec"]


def base(path):
    return path.rsplit("/", 1)[-1]


def test_exec_and_exit_records_for_each_process(run_wrapp, redis_server, tmp_path):
    script = "ls / | wc -l; /bin/false; true"
    r = run_app(run_wrapp, redis_server, script, tmp_path, env={"WRAPP_TRACK": "1"})
    assert r.returncode == 0, r.stderr
    assert "warn" not in r.stderr, r.stderr
    recs = records(redis_server)
    ex = execs(recs)
    by_arg0 = {}
    for e in ex:
        by_arg0.setdefault(e["argv"][0], []).append(e)
    assert [e["argv"] for e in by_arg0["sh"]] == [["sh", "-c", script]]
    assert [e["argv"] for e in by_arg0["ls"]] == [["ls", "/"]]
    assert [e["argv"] for e in by_arg0["wc"]] == [["wc", "-l"]]
    assert [e["argv"] for e in by_arg0["/bin/false"]] == [["/bin/false"]]
    assert len(ex) == 4, ex  # "true" is a shell builtin
    assert base(by_arg0["ls"][0]["exe"]) == "ls"
    pids = {e["pid"] for e in ex}
    assert len(pids) == 4
    app = by_arg0["sh"][0]
    for e in ex:
        assert e["uid"] >= 0 and e["cwd"] and e["time_us"] > 0
        if e is not app:
            assert e["ppid"] == app["pid"]
    exits = {r["pid"]: r for _, r in recs if r["event"] == "exit"}
    assert exits[by_arg0["/bin/false"][0]["pid"]]["code"] == 1
    for name in ("sh", "ls", "wc"):
        assert exits[by_arg0[name][0]["pid"]]["code"] == 0
        assert exits[by_arg0[name][0]["pid"]]["duration_us"] >= 0
    msgs = [m for m, _ in recs]
    false_pid = by_arg0["/bin/false"][0]["pid"]
    assert any(m.startswith("exec %d (ppid %d) " % (false_pid, app["pid"])) for m in msgs)
    assert any(m.startswith("exit %d code 1 after " % false_pid) and m.endswith(" ms")
               for m in msgs)


def test_many_short_processes_each_give_one_exec(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server,
                "for i in $(seq 1000); do /bin/sh -c \"exit $((i % 7))\" x$i; done; true", tmp_path,
                env={"WRAPP_TRACK": "1"}, timeout=120)
    assert r.returncode == 0, r.stderr
    recs = records(redis_server)
    kids = [e for e in execs(recs) if e["argv"][:2] == ["/bin/sh", "-c"]]
    assert len(kids) == 1000
    assert sorted(int(e["argv"][3][1:]) for e in kids) == list(range(1, 1001))
    assert all(e["argv"][2] == "exit %d" % (int(e["argv"][3][1:]) % 7) for e in kids)
    assert len({e["pid"] for e in kids}) == 1000
    exits = {}
    for _, rec in recs:
        if rec["event"] == "exit":
            assert rec["pid"] not in exits, "two exit records for %d" % rec["pid"]
            exits[rec["pid"]] = rec
    bad = [(e, exits[e["pid"]]) for e in kids if exits[e["pid"]]["code"] != int(e["argv"][3][1:]) % 7]
    assert not bad, bad[:3]
    assert all(exits[e["pid"]]["duration_us"] >= 0 for e in kids)


def readelf_build_id(path):
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True).stdout
    return [line.split()[-1] for line in out.splitlines() if "Build ID" in line][0]


def test_static_binary_build_ids_and_shared_objects(run_wrapp, redis_server, tmp_path):
    static = os.path.realpath(os.path.join(BUILD, "crashapp-static"))
    r = run_app(run_wrapp, redis_server, "%s print 1 x >/dev/null; /bin/ls / >/dev/null" % static,
                tmp_path, env={"WRAPP_TRACK": "1"})
    assert r.returncode == 0, r.stderr
    recs = records(redis_server)
    [st] = [e for e in execs(recs) if e["exe"] == static]
    assert st["static"] is True and st["build_id"] == readelf_build_id(static)
    [ls] = [e for e in execs(recs) if e["argv"] == ["/bin/ls", "/"]]
    assert ls["static"] is False and ls["build_id"] == readelf_build_id(ls["exe"])
    exits = {r["pid"]: r for _, r in recs if r["event"] == "exit"}
    libs = {os.path.basename(lib["path"]): lib for lib in exits[ls["pid"]]["libs"]}
    assert "libc.so.6" in libs, libs
    assert libs["libc.so.6"]["build_id"] == readelf_build_id(libs["libc.so.6"]["path"])
    assert not exits[st["pid"]]["libs"]  # nothing loaded beside the exe
    assert all(p["path"] != ls["exe"] for p in exits[ls["pid"]]["libs"])


def test_failed_execs_are_recorded_but_not_a_path_search(run_wrapp, redis_server, tmp_path):
    noexec = tmp_path / "noexec"
    noexec.write_text("#!/bin/sh\n")
    noexec.chmod(0o644)
    r = run_app(run_wrapp, redis_server,
                "env nosuch-cmd-xyz 'a b'; %s; env ls / >/dev/null; true" % noexec, tmp_path,
                env={"WRAPP_TRACK": "1", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    recs = records(redis_server)
    failed = [rec for _, rec in recs if rec["event"] == "exec_failed"]
    assert len(failed) == 2, failed
    by_err = {f["errno"]: f for f in failed}
    assert by_err["ENOENT"]["argv"] == ["nosuch-cmd-xyz", "a b"]
    assert by_err["ENOENT"]["path"].endswith("/nosuch-cmd-xyz")
    assert by_err["ENOENT"]["tries"] == 4  # one per PATH entry
    assert by_err["EACCES"]["path"] == str(noexec)
    assert any(m.startswith("exec failed %d (ppid " % by_err["EACCES"]["pid"]) and
               m.endswith(": Permission denied") for m, _ in recs)
    exits = {rec["pid"]: rec for _, rec in recs if rec["event"] == "exit"}
    assert exits[by_err["ENOENT"]["pid"]]["code"] == 127
    assert exits[by_err["EACCES"]["pid"]]["code"] == 126
    # "env ls" found ls after failing in /usr/local/*: an exec, no failure.
    assert [e["argv"] for e in execs(recs) if e["argv"][0] == "ls"] == [["ls", "/"]]


def test_user_switch_cpu_time_and_json_lines_file(run_wrapp, redis_server, tmp_path):
    out = tmp_path / "proc.jsonl"
    cfg = tmp_path / "t.json"
    cfg.write_text(json.dumps({"track": {"enabled": True, "file": str(out)},
                               "output": {"spool_dir": str(tmp_path / "spool")}}))
    script = ("setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c 'exit 0'; "
              "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
    r = run_wrapp(["-c", str(cfg), "--", "sh", "-c", script],
                  env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "app"})
    assert r.returncode == 0, r.stderr
    recs = records(redis_server)
    [sw] = [e for e in execs(recs) if e["argv"] == ["/bin/sh", "-c", "exit 0"]]
    assert sw["uid"] == 65534
    [sp] = [e for e in execs(recs) if e["argv"][0] == "setpriv"]
    assert sp["uid"] == 0 and sp["pid"] == sw["pid"]  # setpriv execs the shell
    app = [e for e in execs(recs) if e["argv"][0] == "sh"][0]
    exits = {rec["pid"]: rec for _, rec in recs if rec["event"] == "exit"}
    assert exits[app["pid"]]["user_us"] > 10000, exits[app["pid"]]
    assert exits[app["pid"]]["maxrss_kb"] > 100
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == [rec for _, rec in recs]


def test_signal_exit_is_named(run_wrapp, redis_server, tmp_path):
    run_app(run_wrapp, redis_server, "sleep 10 & sleep 0.3; kill -KILL $!; wait", tmp_path,
            env={"WRAPP_TRACK": "1"})
    recs = records(redis_server)
    [e] = [e for e in execs(recs) if e["argv"] == ["sleep", "10"]]
    exits = {r["pid"]: r for _, r in recs if r["event"] == "exit"}
    assert exits[e["pid"]]["signal"] == "SIGKILL"
    assert any(m.startswith("exit %d signal SIGKILL after " % e["pid"]) for m, _ in recs)


def test_off_by_default(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server, "ls / >/dev/null; true", tmp_path)
    assert r.returncode == 0, r.stderr
    c = redis_server.client()
    assert c.exists("logs:app:app:info")
    assert not c.exists("logs:app:app:proc")


def wrapp_ps(redis_server, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WRAPP_")}
    return subprocess.run([os.path.join(BUILD, "wrapp"), "ps", "--url", redis_server.url] +
                          list(args), capture_output=True, text=True, env=env, timeout=30)


def test_wrapp_ps_prints_the_tree_of_the_last_run(run_wrapp, redis_server, tmp_path):
    run_app(run_wrapp, redis_server, "/bin/true first-run", tmp_path, stream="tree",
            env={"WRAPP_TRACK": "1"})
    script = ("sh -c 'ls / >/dev/null; /bin/false'; env nosuch-xyz; "
              "/bin/sh -c 'kill -KILL $$'; exit 3")
    r = run_app(run_wrapp, redis_server, script, tmp_path, stream="tree",
                env={"WRAPP_TRACK": "1"})
    assert r.returncode == 3, r.stderr
    ps = wrapp_ps(redis_server, "--stream", "tree")
    assert ps.returncode == 0, ps.stderr
    lines = ps.stdout.splitlines()
    assert re.fullmatch(r"run \d+ \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\): 6 processes, "
                        r"1 failed execs", lines[0]), lines
    recs = records(redis_server, "tree")
    pid = {tuple(e["argv"]): e["pid"] for e in execs(recs)}
    sh_c = pid[("sh", "-c", "ls / >/dev/null; /bin/false")]
    expect = [
        r"%d sh -c %s  \[exit 3, [\d.]+ ms\]" % (pid[("sh", "-c", script)], re.escape(script)),
        r"\|- %d sh -c ls / >/dev/null; /bin/false  \[exit 1, [\d.]+ ms\]" % sh_c,
        r"\|  \|- %d ls /  \[exit 0, [\d.]+ ms\]" % pid[("ls", "/")],
        r"\|  `- %d /bin/false  \[exit 1, [\d.]+ ms\]" % pid[("/bin/false",)],
        r"\|- %d env nosuch-xyz  \[exit 127, [\d.]+ ms; exec failed: ENOENT /.*/nosuch-xyz\]"
        % pid[("env", "nosuch-xyz")],
        r"`- %d /bin/sh -c kill -KILL \$\$  \[SIGKILL, [\d.]+ ms\]"
        % pid[("/bin/sh", "-c", "kill -KILL $$")],
    ]
    assert len(lines) == 1 + len(expect), lines
    for pat, line in zip(expect, lines[1:]):
        assert re.fullmatch(pat, line), (pat, line)
    # Every run, each run's own records, and errors.
    every = wrapp_ps(redis_server, "--stream", "tree", "--all").stdout
    assert every.count("\nrun ") + every.startswith("run ") == 2 and "first-run" in every
    first_id = every.split()[1]
    one = wrapp_ps(redis_server, "--stream", "tree", "--run", first_id, "--json")
    recs1 = [json.loads(x) for x in one.stdout.splitlines()]
    assert ["/bin/true", "first-run"] in [x.get("argv") for x in recs1]
    assert sorted(x["event"] for x in recs1) == ["exec", "exec", "exit", "exit"]
    missing = wrapp_ps(redis_server, "--stream", "nothing-here")
    assert missing.returncode == 1 and "no process records in logs:app:nothing-here:proc" \
        in missing.stderr
    assert wrapp_ps(redis_server, "--run", "1", "--all").returncode == 2


def test_secret_arguments_are_redacted(run_wrapp, redis_server, tmp_path):
    script = ("/bin/echo --password hunter2 --api-token=abc -p keep plain; "
              "env nosuch-xyz --Secret=s3 x; true")
    r = run_app(run_wrapp, redis_server, script, tmp_path, env={"WRAPP_TRACK": "1"})
    assert r.returncode == 0, r.stderr
    recs = records(redis_server)
    [echo] = [e for e in execs(recs) if e["argv"][0] == "/bin/echo"]
    assert echo["argv"] == ["/bin/echo", "--password", "***", "--api-token=***", "-p", "keep",
                            "plain"]
    assert echo["argv_redacted"] is True
    [failed] = [rec for _, rec in recs if rec["event"] == "exec_failed"]
    assert failed["argv"] == ["nosuch-xyz", "--Secret=***", "x"]
    # Only the app's own "sh -c SCRIPT" (one argument) still holds them.
    rest = [(m, rec) for m, rec in recs if rec.get("argv") != ["sh", "-c", script]]
    everything = json.dumps(rest)
    for secret in ("hunter2", "abc", "s3"):
        assert secret not in everything
    # Patterns of one's own replace the defaults.
    cfg = tmp_path / "r.json"
    cfg.write_text(json.dumps({"track": {"enabled": True, "redact": ["--pin"]}}))
    r = run_wrapp(["-c", str(cfg), "--", "/bin/echo", "--pin", "1234", "--password", "x"],
                  env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "own"})
    assert r.returncode == 0, r.stderr
    [own] = execs(records(redis_server, "own"))
    assert own["argv"] == ["/bin/echo", "--pin", "***", "--password", "x"]


def test_example_config_records_the_tree(run_wrapp, redis_server):
    example = os.path.join(os.path.dirname(__file__), "../../examples/track.json")
    r = run_wrapp([example], env={"WRAPP_REDIS_URL": redis_server.url,
                                  "WRAPP_STREAM_NAME": "example"})
    assert r.returncode == 0, r.stderr
    recs = records(redis_server, "example")
    assert [e["argv"] for e in execs(recs) if e["argv"][0] in ("ls", "wc")] in (
        [["ls", "/"], ["wc", "-l"]], [["wc", "-l"], ["ls", "/"]])
    assert [rec["errno"] for _, rec in recs if rec["event"] == "exec_failed"] == ["ENOENT"]
