# SPDX-License-Identifier: MIT
"""Process tracking (track.enabled, WRAPP_TRACK): one record per exec and
per process exit in logs:app:<stream>:proc, with a one-line message and the
structured record in the json field; off by default."""
import json

from conftest import entries


def run_app(run_wrapp, redis_server, script, tmp_path, stream="app", env=None):
    e = {"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": stream,
         "WRAPP_SPOOL_TEST": "1"}
    e.update(env or {})
    cfg = tmp_path / "out.json"
    cfg.write_text('{"output": {"spool_dir": "%s"}}' % (tmp_path / "spool"))
    return run_wrapp(["-c", str(cfg), "--", "sh", "-c", script], env=e)


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
    r = run_app(run_wrapp, redis_server, "for i in $(seq 200); do /bin/true; done", tmp_path,
                env={"WRAPP_TRACK": "1"})
    assert r.returncode == 0, r.stderr
    recs = records(redis_server)
    trues = [e for e in execs(recs) if e["argv"] == ["/bin/true"]]
    assert len(trues) == 200
    assert all(e["exe"] in ("/bin/true", "/usr/bin/true") for e in trues)
    assert len({e["pid"] for e in trues}) == 200
    exits = {r["pid"]: r for _, r in recs if r["event"] == "exit"}
    assert all(exits[e["pid"]]["code"] == 0 for e in trues)


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
