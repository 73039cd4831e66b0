# SPDX-License-Identifier: MIT
"""The app's output in Redis Streams: the Go wrapp's wire format (DB 1,
logs:app:<stream>:info, field message, MAXLEN ~ 1000, run markers, metric
markers in DB 2, multi-line blocks), the extra fields, and what happens when
Redis is slow, down or refuses the credentials."""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import entries, wait_for


def messages(client, key):
    return [f["message"] for _, f in entries(client, key)]


def run_app(run_wrapp, redis_server, script, tmp_path, stream="app", **kw):
    env = {"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": stream,
           "WRAPP_SPOOL_TEST": "1"}
    env.update(kw.pop("env", {}))
    cfg = tmp_path / "out.json"
    cfg.write_text('{"output": {"spool_dir": "%s"}}' % (tmp_path / "spool"))
    return run_wrapp(["-c", str(cfg), "--", "sh", "-c", script], env=env, **kw)


def test_lines_markers_and_run_markers_reach_redis(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server, "echo hello; echo ' padded  '; echo err >&2; exit 3",
                tmp_path)
    assert r.returncode == 3, r.stderr
    c = redis_server.client()
    info = messages(c, "logs:app:app:info")
    assert re.fullmatch(rb"\{\{__NEW_RUN_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\}\}", info[0])
    assert info[1:4] == [b"hello", b"padded", b"err"]
    assert re.fullmatch(rb"\{\{__END_RUN_[0-9_-]+_exit_3\}\}", info[-1])
    status = messages(c, "logs:app:app:status")
    assert status[0] == info[0] and status[-1] == info[-1]
    assert b"Executable exited with code 3." in status


def test_passthrough_keeps_console_output(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server, "echo to-out; echo to-err >&2", tmp_path)
    assert "to-out" in r.stdout and "to-err" in r.stderr


def test_extra_fields_tell_stdout_from_stderr_in_order(run_wrapp, redis_server, tmp_path):
    run_app(run_wrapp, redis_server, "echo a; echo b >&2; echo c", tmp_path)
    ents = [f for _, f in entries(redis_server.client(), "logs:app:app:info")][1:-1]
    assert [(f["message"], f["fd"]) for f in ents] == [(b"a", b"out"), (b"b", b"err"),
                                                      (b"c", b"out")] or \
        sorted(f["message"] for f in ents) == [b"a", b"b", b"c"]
    seqs = [int(f["seq"]) for f in ents]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    for f in ents:
        assert abs(int(f["ts"]) / 1e6 - time.time()) < 60
        assert int(f["pid"]) > 0


def test_byte_exact_round_trip(run_wrapp, redis_server, tmp_path):
    payload = tmp_path / "payload"
    lines = ["unicode ✓ ü 日本", "binary \xff\xfe\x01 x", "crlf", "no-final-newline"]
    payload.write_bytes("unicode ✓ ü 日本\n".encode() + b"binary \xff\xfe\x01 x\n" +
                        b"crlf\r\n" + b"\n" + b"no-final-newline")
    run_app(run_wrapp, redis_server, f"cat {payload}", tmp_path)
    got = messages(redis_server.client(), "logs:app:app:info")[1:-1]
    assert got == [lines[0].encode(), b"binary \xff\xfe\x01 x", b"crlf", b"no-final-newline"]


def test_long_line_is_split_not_lost(run_wrapp, redis_server, tmp_path):
    cfg = tmp_path / "long.json"
    cfg.write_text('{"output": {"max_line": 100000, "spool_dir": "%s"}}' % (tmp_path / "sp"))
    r = run_wrapp(["-c", str(cfg), "--", "sh", "-c",
                   "head -c 250000 /dev/zero | tr '\\0' x; echo; echo after"],
                  env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "app"})
    assert r.returncode == 0
    ents = [f for _, f in entries(redis_server.client(), "logs:app:app:info")][1:-1]
    assert [len(f["message"]) for f in ents] == [100000, 100000, 50000, 5]
    assert [f.get("split") for f in ents] == [b"P", b"P", b"F", None]


def test_metric_markers_go_to_db2(run_wrapp, redis_server, tmp_path):
    run_app(run_wrapp, redis_server,
            "echo '{{hits}}'; echo '{{hits}} x {{hits:}}'; echo 'v {{gauge:007}}'; "
            "echo '{{ bad }} {{t:-5}}'", tmp_path)
    c2 = redis_server.client(db=2)
    assert c2.get("wrapp:app:hits") == b"3"
    assert c2.get("wrapp:app:gauge") == b"007"
    got = messages(redis_server.client(), "logs:app:app:info")[1:-1]
    assert got == [b"x", b"v", b"{{ bad }} {{t:-5}}"]


def test_multiline_blocks_per_stream_and_flushed_at_eof(run_wrapp, redis_server, tmp_path):
    run_app(run_wrapp, redis_server,
            "printf '>>|\\n  indented\\n\\n  more\\n|<< after\\n'; printf '>>|open at eof\\nx\\n'",
            tmp_path)
    got = messages(redis_server.client(), "logs:app:app:info")[1:-1]
    assert got == [b"  indented\n\n  more", b"after", b"open at eof\nx"]


def test_go_style_reader_still_works(run_wrapp, redis_server, tmp_path):
    run_app(run_wrapp, redis_server, "echo last-line", tmp_path)
    c = redis_server.client()
    newest = c.xrevrange("logs:app:app:info", "+", "-", count=2)
    assert newest[1][1][b"message"] == b"last-line"
    assert re.match(rb"\{\{__END_RUN_", newest[0][1][b"message"])


def test_default_stream_name_is_the_executable_basename(run_wrapp, redis_server, tmp_path):
    r = run_wrapp(["--", "/bin/echo", "hi"], env={"WRAPP_REDIS_URL": redis_server.url})
    assert r.returncode == 0
    assert b"hi" in messages(redis_server.client(), "logs:app:echo:info")


def test_maxlen_trims_the_stream(run_wrapp, redis_server, tmp_path):
    run_app(run_wrapp, redis_server, "seq 5000", tmp_path)
    n = redis_server.client().xlen("logs:app:app:info")
    assert 1000 <= n < 1300


def test_redis_absent_at_start_then_back(start_wrapp, make_redis, tmp_path, testapp):
    srv = make_redis()
    cfg = tmp_path / "c.json"
    cfg.write_text('{"output": {"spool_dir": "%s"}}' % (tmp_path / "spool"))
    w = start_wrapp(["-c", str(cfg), "--", "sh", "-c",
                     "for i in 1 2 3 4 5; do echo line$i; done; sleep 3; echo late"],
                    env={"WRAPP_REDIS_URL": srv.url, "WRAPP_STREAM_NAME": "app"})
    time.sleep(1.0)
    assert w.proc.poll() is None, "the app must start without Redis"
    srv.start()
    r = w.wait(30)
    assert r.returncode == 0
    got = messages(srv.client(), "logs:app:app:info")
    assert got[1:7] == [b"line1", b"line2", b"line3", b"line4", b"line5", b"late"]
    assert "cannot reach Redis at 127.0.0.1:%d" % srv.port in r.stderr


def test_wrong_password_is_one_clear_line_and_the_app_runs(run_wrapp, make_redis, tmp_path):
    srv = make_redis(extra=["--user", "wrapp", "on", ">right", "~*", "+@all"])
    srv.start()
    secrets = tmp_path / "secrets" / "wrapp"
    secrets.mkdir(parents=True)
    (secrets / "password").write_text("wrong\n")
    cfg = tmp_path / "c.json"
    cfg.write_text('{"redis": {"host": "127.0.0.1", "port": %d, "secrets_dir": "%s"}, '
                   '"app": {"executable": "sh", "args": ["-c", "echo ran; exit 4"]}, '
                   '"output": {"spool_dir": "%s", "flush_seconds": 1}}'
                   % (srv.port, secrets, tmp_path / "spool"))
    r = run_wrapp([str(cfg)])
    assert r.returncode == 4 and "ran" in r.stdout
    errs = [l for l in r.stderr.splitlines() if "refused the credentials" in l]
    assert len(errs) == 1, r.stderr
    assert "127.0.0.1:%d (user wrapp)" % srv.port in errs[0]
    assert "wrong" not in r.stderr and "right" not in r.stderr


def test_a_password_missing_for_a_server_that_wants_one_says_so(run_wrapp, make_redis,
                                                                tmp_path):
    srv = make_redis()
    srv.start()
    srv.client().config_set("requirepass", "right")
    cfg = tmp_path / "c.json"
    cfg.write_text('{"redis": {"host": "127.0.0.1", "port": %d}, '
                   '"app": {"executable": "sh", "args": ["-c", "echo ran; exit 4"]}, '
                   '"output": {"spool_dir": "%s", "flush_seconds": 1}}'
                   % (srv.port, tmp_path / "spool"))
    r = run_wrapp([str(cfg)])
    assert r.returncode == 4 and "ran" in r.stdout
    errs = [l for l in r.stderr.splitlines() if "Redis" in l]
    assert errs == ["wrapp: error: Redis at 127.0.0.1:%d (user default) refused the credentials: "
                    "it requires a password (NOAUTH) and none was given; fix the password file "
                    "in redis.secrets_dir (sentinels: redis.sentinel_secrets_dir) or the URL; "
                    "output is kept meanwhile" % srv.port], r.stderr


def test_client_pause_does_not_slow_the_app(start_wrapp, redis_server, tmp_path, testapp):
    c = redis_server.client()
    cfg = tmp_path / "c.json"
    cfg.write_text('{"output": {"spool_dir": "%s"}, "redis": {"timeout_seconds": 10, '
                   '"maxlen": 100000}}' % (tmp_path / "spool"))
    c.execute_command("CLIENT", "PAUSE", "5000", "ALL")
    t0 = time.monotonic()
    w = start_wrapp(["-c", str(cfg), "--", "sh", "-c",
                     "s=$(date +%s%N); i=0; while [ $i -lt 2000 ]; do echo line$i; "
                     "i=$((i+1)); done; e=$(date +%s%N); echo took=$(( (e-s)/1000000 )) >&2"],
                    env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "app"})
    r = w.wait(60)
    took = int(re.search(r"took=(\d+)", r.stderr).group(1))
    assert took < 2000, f"the app took {took} ms while Redis was paused"
    got = messages(c, "logs:app:app:info")
    assert [m for m in got if m.startswith(b"line")] == [b"line%d" % i for i in range(2000)]


@pytest.mark.slow
def test_million_lines_with_two_redis_restarts_arrive_once_in_order(start_wrapp, make_redis,
                                                                    tmp_path, testapp):
    # Persistence on (every write fsynced) so a killed Redis keeps what it
    # acknowledged; wrapp must fill the gaps from its spool, without
    # duplicates, in order.
    srv = make_redis(extra=["--appendonly", "yes", "--appendfsync", "always"])
    srv.start()
    n = 1000000
    cfg = tmp_path / "c.json"
    cfg.write_text('{"output": {"spool_dir": "%s", "passthrough": false, "flush_seconds": 60}, '
                   '"redis": {"maxlen": 0, "timeout_seconds": 2}}' % (tmp_path / "spool"))
    w = start_wrapp(["-c", str(cfg), "--", testapp, "lines", str(n), "3"],
                    env={"WRAPP_REDIS_URL": srv.url, "WRAPP_STREAM_NAME": "big"})
    c = srv.client()
    for _ in range(2):
        assert wait_for(lambda: c.xlen("logs:app:big:info") > 0, 30)
        time.sleep(0.5)
        srv.kill()
        time.sleep(0.7)
        srv.start()
        c = srv.client()
    r = w.wait(300)
    assert r.returncode == 0, r.stderr
    got = [f["message"] for _, f in entries(c, "logs:app:big:info")
           if not f["message"].startswith(b"{{")]
    assert len(got) == n, f"{len(got)} lines, {len(set(got))} distinct: {r.stderr[-3000:]}"
    assert got == [b"line %d" % i for i in range(n)]


def test_end_marker_for_missing_executable_and_sigterm(run_wrapp, start_wrapp, redis_server,
                                                       tmp_path, testapp):
    env = {"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "m"}
    r = run_wrapp(["--", "/nonexistent/prog"], env=env)
    assert r.returncode == 127
    w = start_wrapp(["-t", "0.5", "--", testapp, "ignore-term"], env=env)
    assert w.proc.stdout.readline().strip() == b"ready"
    w.kill(signal.SIGTERM)
    r2 = w.wait(30)
    assert r2.returncode == 137
    info = messages(redis_server.client(), "logs:app:m:info")
    starts = [m for m in info if m.startswith(b"{{__NEW_RUN_")]
    ends = [m for m in info if m.startswith(b"{{__END_RUN_")]
    assert len(starts) == 2 and len(ends) == 2, info
    assert ends[0].endswith(b"_exit_127}}")
    assert ends[1].endswith(b"_exit_%d}}" % r2.returncode)


def test_spool_cap_drops_oldest_and_reports_it(start_wrapp, make_redis, tmp_path):
    srv = make_redis()
    cfg = tmp_path / "c.json"
    cfg.write_text('{"output": {"spool_dir": "%s", "spool_max_bytes": 200000, '
                   '"flush_seconds": 20, "passthrough": false}, "redis": {"maxlen": 0}}'
                   % (tmp_path / "spool"))
    w = start_wrapp(["-c", str(cfg), "--", "sh", "-c", "seq 20000; sleep 2; echo done"],
                    env={"WRAPP_REDIS_URL": srv.url, "WRAPP_STREAM_NAME": "cap"})
    time.sleep(1.5)
    srv.start()
    r = w.wait(60)
    assert r.returncode == 0
    said = re.findall(r"about (\d+) lines \(\d+ bundles\) dropped so far from the spool at its "
                      r"size cap, oldest first; raise output.spool_max_bytes", r.stderr)
    assert said, r.stderr
    c = srv.client()
    got = messages(c, "logs:app:cap:info")
    assert got[-2:-1] == [b"done"]
    nums = [int(m) for m in got if m.isdigit()]
    assert nums == sorted(nums) and 0 < len(nums) < 20000 and nums[-1] == 20000
    lost = 20000 - len(nums)  # the count is an estimate from the bundles' average
    assert lost / 2 <= int(said[-1]) <= lost * 2, (said, lost)
    errors = b"\n".join(messages(c, "logs:app:cap:error"))
    assert b"dropped so far from the spool" in errors


def test_wait_at_start_gives_up_like_the_go_wrapp(run_wrapp, make_redis, tmp_path):
    srv = make_redis()
    cfg = tmp_path / "c.json"
    cfg.write_text('{"redis": {"host": "127.0.0.1", "port": %d, "wait_at_start_seconds": 1}, '
                   '"app": {"executable": "sh", "args": ["-c", "echo should-not-run"]}, '
                   '"output": {"spool_dir": "%s"}}' % (srv.port, tmp_path / "spool"))
    t0 = time.monotonic()
    r = run_wrapp([str(cfg)])
    assert r.returncode == 1
    assert 0.9 < time.monotonic() - t0 < 10
    assert "should-not-run" not in r.stdout
    assert "Redis not available after 1 s" in r.stderr


def test_wrapp_logs_prints_the_stream(run_wrapp, redis_server, tmp_path):
    from conftest import WRAPP
    run_app(run_wrapp, redis_server, "echo one; echo two >&2; echo three", tmp_path)
    env = dict(os.environ, WRAPP_REDIS_URL=redis_server.url)
    r = subprocess.run([WRAPP, "logs", "--stream", "app"], env=env, capture_output=True,
                       timeout=20)
    assert r.returncode == 0
    out = r.stdout.decode().splitlines()
    assert out[1:3] == ["one", "three"] and r.stderr.decode().splitlines() == ["two"]
    r = subprocess.run([WRAPP, "logs", "--stream", "app", "--stderr-only"], env=env,
                       capture_output=True, timeout=20)
    assert r.stdout == b"" and r.stderr == b"two\n"
    p = subprocess.Popen([WRAPP, "logs", "-f", "-n", "1", "--stream", "app"], env=env,
                         stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline().startswith(b"{{__END_RUN_")
        run_app(run_wrapp, redis_server, "echo followed", tmp_path)
        assert p.stdout.readline().startswith(b"{{__NEW_RUN_")
        assert p.stdout.readline() == b"followed\n"
    finally:
        p.kill()
        p.wait()


def test_a_100_mb_line_is_split_and_memory_stays_bounded(start_wrapp, redis_server, tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"output": {"spool_dir": "%s", "passthrough": false}, "redis": {"maxlen": 0}}'
                   % (tmp_path / "spool"))
    w = start_wrapp(["-c", str(cfg), "--", "sh", "-c",
                     # 100 MB in 1 MB writes, paced (~100 MB/s): about the line, not
                     # about bursts faster than Redis and the disk (README: limits)
                     "for i in $(seq 100); do head -c 1000000 /dev/zero | tr '\\0' y; "
                     "sleep 0.005; done; echo; echo end"],
                    env={"WRAPP_REDIS_URL": redis_server.url, "WRAPP_STREAM_NAME": "big"})
    peak = 0
    while w.proc.poll() is None:
        try:
            with open(f"/proc/{w.host_pid}/status") as f:
                peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)))
        except (OSError, AttributeError):
            pass
        time.sleep(0.05)
    r = w.wait(120)
    assert r.returncode == 0
    c = redis_server.client()
    ents = [f for _, f in entries(c, "logs:app:big:info")][1:-1]
    assert sum(len(f["message"]) for f in ents[:-1]) == 100000000
    assert ents[-1]["message"] == b"end"
    print(f"peak_rss_kb={peak}")
    assert peak < 80 * 1024, f"wrapp peaked at {peak} kB for a 100 MB line"


def test_redis_over_a_unix_socket(run_wrapp, make_redis, tmp_path):
    sock = tmp_path / "redis.sock"
    srv = make_redis(extra=["--unixsocket", str(sock), "--unixsocketperm", "700"]).start()
    cfg = tmp_path / "out.json"
    cfg.write_text('{"output": {"spool_dir": "%s"}}' % (tmp_path / "spool"))
    r = run_wrapp(["-c", str(cfg), "--", "sh", "-c", "echo over the socket"],
                  env={"WRAPP_REDIS_URL": "unix://" + str(sock), "WRAPP_STREAM_NAME": "sock"})
    assert r.returncode == 0, r.stderr
    assert b"over the socket" in messages(srv.client(), "logs:app:sock:info")


def test_wrapp_logs_takes_the_environment_over_the_config_file(run_wrapp, redis_server, tmp_path):
    from conftest import WRAPP
    run_app(run_wrapp, redis_server, "echo from env stream", tmp_path, stream="envstream")
    cfg = tmp_path / "reader.json"
    cfg.write_text('{"app": {"stream_name": "filestream"}, "redis": {"port": 1}}')
    env = dict(os.environ, WRAPP_REDIS_URL=redis_server.url, WRAPP_STREAM_NAME="envstream")
    r = subprocess.run([WRAPP, "logs", str(cfg)], env=env, capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr
    assert "from env stream" in r.stdout.decode()
