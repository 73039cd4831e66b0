# SPDX-License-Identifier: MIT
"""Everything under examples/ still works, so that none of it rots.

Every *.json under examples/ (recursively) is loaded by the real wrapp in the
way it is meant to be used: a wrapp config with `wrapp -c CONFIG -- CMD` (its
Redis replaced by the test's redis-server through WRAPP_REDIS_URL, debug
mode turned off with WRAPP_DEBUG=0 and WRAPP_DEBUG_ON_CRASH=0, which leave
the debug section parsed and type-checked), a seccomp profile through
WRAPP_SECCOMP_PROFILE, the shim registration next to a shim. Configs whose
app can run here also run in the Go form (`wrapp CONFIG`). Every demo app in
examples/apps runs under wrapp with its output checked in Redis. A new file
that none of this covers fails test_every_example_is_covered."""
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess

import pytest

from conftest import WRAPP, entries, wait_for

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "../.."))
EXAMPLES = os.path.join(ROOT, "examples")
APPS = os.path.join(EXAMPLES, "apps")


def rel(path):
    return os.path.relpath(path, EXAMPLES)


def every_json():
    return sorted(rel(p) for p in glob.glob(os.path.join(EXAMPLES, "**", "*.json"),
                                            recursive=True))


def kind(name):
    """What an example JSON file is, by where it lives and what it holds."""
    if name.startswith("seccomp/"):
        return "seccomp"
    with open(os.path.join(EXAMPLES, name)) as f:
        doc = json.load(f)
    if "wrapp_shim" in doc:
        return "shim-registration"
    return "config"


def load(name):
    with open(os.path.join(EXAMPLES, name)) as f:
        return json.load(f)


CONFIGS = [n for n in every_json() if kind(n) == "config"]
PROFILES = [n for n in every_json() if kind(n) == "seccomp"]
REGISTRATIONS = [n for n in every_json() if kind(n) == "shim-registration"]

# Configs whose own app can run here, in the Go form, and what it exits with.
# The others' apps are a placeholder (/usr/local/bin/myservice), wait for a
# debugger (debug-*), or are run by their own tests (track.json: test_track).
GO_FORM = {
    "basic.json": 3,
    "crash-demo.json": 139,
    "debug-postmortem.json": 139,
}

# The demo apps, each checked by a test below.
APP_TESTS = {"logs.sh", "markers.sh", "metrics.sh", "multiline.sh", "hang.sh", "crash.sh",
             "demo-app.sh"}


# wrapp's default spool (/var/lib/wrapp/spool/<stream>) is shared by every run
# on the machine, and lines another run left there are sent first. Each run
# here gets an empty /var/lib of its own (a tmpfs in the mount namespace
# unshare made), so the examples keep their default spool_dir.
PRIVATE_SPOOL = ["/bin/sh", "-c", 'mount -t tmpfs -o mode=0755 private-spool /var/lib && exec "$@"',
                 "sh"]


def base_env(redis_server, tmp_path, **extra):
    env = {"WRAPP_REDIS_URL": redis_server.url, "WRAPP_DEBUG": "0",
           "WRAPP_DEBUG_ON_CRASH": "0", "WRAPP_CRASH_DIR": str(tmp_path / "crashes")}
    env.update(extra)
    return env


def user_exists(user):
    name = user.split(":")[0]
    if name.isdigit():
        return True
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def info(redis_server, stream):
    return [f["message"].decode() for _, f in entries(redis_server.client(),
                                                       "logs:app:%s:info" % stream)]


def app_lines(redis_server, stream):
    """The app's lines (the run markers left out)."""
    return [m for m in info(redis_server, stream) if not m.startswith("{{__")]


def errors(stderr):
    return [line for line in stderr.splitlines() if line.startswith("wrapp: error:")]


def test_every_example_is_covered():
    names = every_json()
    assert names, "no example configs found under %s" % EXAMPLES
    for n in names:
        assert kind(n) in ("config", "seccomp", "shim-registration"), n
    assert set(GO_FORM) <= set(CONFIGS)
    assert {"config.example.json", "debug-simple.json", "debug-remote.json",
            "debug-container.json", "crash-demo.json", "debug-postmortem.json"} <= set(CONFIGS)
    scripts = {os.path.basename(p) for p in glob.glob(os.path.join(APPS, "*"))}
    assert scripts == APP_TESTS, "every app in examples/apps needs its test here"
    for s in scripts:
        assert os.access(os.path.join(APPS, s), os.X_OK), s + " is not executable"


@pytest.mark.parametrize("name", CONFIGS)
def test_config_is_accepted(name, run_wrapp, redis_server, tmp_path):
    cfg = load(name)
    env = base_env(redis_server, tmp_path)
    user = (cfg.get("app") or {}).get("user")
    if user and not user_exists(user):
        env["WRAPP_USER"] = "0"  # the example's user does not exist on this machine
    r = run_wrapp(["-c", os.path.join(EXAMPLES, name), "--", "/bin/sh", "-c",
                   "echo example-ok"], env=env, cwd=ROOT, prefix=PRIVATE_SPOOL)
    assert r.returncode == 0, (name, r.stderr)
    assert errors(r.stderr) == [], (name, r.stderr)
    stream = (cfg.get("app") or {}).get("stream_name") or "sh"
    assert app_lines(redis_server, stream) == ["example-ok"], (name, r.stderr)


def test_debug_section_is_parsed_even_with_debug_turned_off(run_wrapp, tmp_path):
    """WRAPP_DEBUG=0 above does not skip the debug section: a broken one is
    still a config error, so the debug examples are really checked."""
    cfg = load("debug-simple.json")
    cfg["debug"]["port"] = "2345"
    path = tmp_path / "broken-debug.json"
    path.write_text(json.dumps(cfg))
    r = run_wrapp(["-c", str(path), "--", "true"], env={"WRAPP_DEBUG": "0"})
    assert r.returncode == 2
    assert "debug.port: expected an integer in range, found a string" in r.stderr


@pytest.mark.parametrize("name", sorted(GO_FORM))
def test_go_form_runs_the_configs_own_app(name, run_wrapp, redis_server, tmp_path):
    r = run_wrapp([os.path.join(EXAMPLES, name)], env=base_env(redis_server, tmp_path),
                  cwd=ROOT, timeout=60, prefix=PRIVATE_SPOOL)
    assert r.returncode == GO_FORM[name], (name, r.returncode, r.stderr)
    assert errors(r.stderr) == [], (name, r.stderr)
    stream = load(name)["app"]["stream_name"]
    assert info(redis_server, stream)[-1].endswith("_exit_%d}}" % GO_FORM[name])
    if GO_FORM[name] > 128:
        crashes = entries(redis_server.client(), "logs:app:%s:crash" % stream)
        assert [f["signal"] for _, f in crashes] == [b"SIGSEGV"], (name, r.stderr)


@pytest.mark.parametrize("name", PROFILES)
def test_seccomp_profile_loads(name, run_wrapp, redis_server, tmp_path):
    env = base_env(redis_server, tmp_path, WRAPP_STREAM_NAME="profile",
                   WRAPP_SECCOMP_PROFILE=os.path.join(EXAMPLES, name))
    r = run_wrapp(["--", "/bin/sh", "-c", "echo example-ok"], env=env, prefix=PRIVATE_SPOOL)
    assert r.returncode == 0, (name, r.stderr)
    assert errors(r.stderr) == [], (name, r.stderr)
    assert app_lines(redis_server, "profile") == ["example-ok"]
    reports = [f for _, f in entries(redis_server.client(), "logs:app:profile:error")
               if f.get("kind") == b"seccomp"]
    assert reports == [], (name, reports)


@pytest.mark.parametrize("name", REGISTRATIONS)
def test_shim_registration_is_read(name, tmp_path):
    """`wrapp shim list` reads the registration as a shim would find it."""
    reg = load(name)
    tool = os.path.basename(reg["target"])
    d = tmp_path / "bin"
    d.mkdir()
    shutil.copy(os.path.join(EXAMPLES, name), d / (".%s.wrapp-shim.json" % tool))
    r = subprocess.run([WRAPP, "shim", "list", str(d)], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("%s/%s -> %s/%s (log %s" % (d, tool, d, reg["real"], reg["log"]))
    assert "unreadable" not in r.stdout
    assert "%d appended" % len(reg["append"]) in r.stdout


@pytest.mark.parametrize("name", REGISTRATIONS)
def test_shim_registration_runs_a_call(name, tmp_path, redis_server):
    """A shim set up by hand from the example registration (its config path
    pointed at a copy of the example shim config): the call runs the real
    binary with the registration's arguments appended and is recorded."""
    reg = load(name)
    tool = os.path.basename(reg["target"])
    d = tmp_path / "bin"
    d.mkdir()
    shutil.copy(WRAPP, d / tool)
    shutil.copy(shutil.which("printf") or "/usr/bin/printf", d / reg["real"])
    shutil.copy(os.path.join(EXAMPLES, "shim", "wrapp-shim.json"), tmp_path / "shim.json")
    reg["config"] = str(tmp_path / "shim.json")
    (d / (".%s.wrapp-shim.json" % tool)).write_text(json.dumps(reg))
    os.chmod(d / (".%s.wrapp-shim.json" % tool), 0o644)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WRAPP_", "TINI_"))}
    env["WRAPP_REDIS_URL"] = redis_server.url
    r = subprocess.run([str(d / tool), "%s|"], capture_output=True, env=env, timeout=20,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "".join(a + "|" for a in reg["append"])
    stream = load("shim/wrapp-shim.json")["app"]["stream_name"]
    recs = [json.loads(f["json"]) for _, f in
            entries(redis_server.client(), "logs:app:%s:info" % stream)
            if f.get("event") == b"shim"]
    assert [(x["tool"], x["appended"], x["exit_code"]) for x in recs] == \
        [(str(d / tool), len(reg["append"]), 0)]


# ---- the demo apps ----------------------------------------------------------

def run_app(run_wrapp, redis_server, tmp_path, app, stream, env=(), args=(), timeout=30):
    e = base_env(redis_server, tmp_path, WRAPP_STREAM_NAME=stream)
    e.update(dict(env))
    return run_wrapp(list(args) + ["--", os.path.join(APPS, app)], env=e, timeout=timeout,
                     prefix=PRIVATE_SPOOL)


def test_app_logs(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server, tmp_path, "logs.sh", "logs",
                env={"LOGS_COUNT": "10", "LOGS_INTERVAL": "0"})
    assert r.returncode == 0, r.stderr
    got = [(f["message"].decode(), f["fd"]) for _, f in
           entries(redis_server.client(), "logs:app:logs:info") if "fd" in f]
    out = [m for m, fd in got if fd == b"out"]
    assert len(out) == 12 and out[-1] == "logs: done after 10 lines"
    assert [m for m, fd in got if fd == b"err"] == [
        "logs: warning 5: slow request id=5 (stderr)",
        "logs: warning 10: slow request id=10 (stderr)"]


def test_app_markers(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server, tmp_path, "markers.sh", "markers")
    assert r.returncode == 0, r.stderr
    m = redis_server.client(2)
    assert {k: m.get("wrapp:markers:" + k) for k in ("starts", "jobs", "queue_depth", "a", "b")} \
        == {"starts": b"1", "jobs": b"2", "queue_depth": b"042", "a": b"1", "b": b"7"}
    lines = app_lines(redis_server, "markers")
    assert len(lines) == 5 and not any(line.startswith("{{jobs") for line in lines)
    assert "markers: not markers, kept as text: {{ spaced }} {{neg:-5}} {{ratio:1.5}} " \
           "{{name:abc}}" in lines


def test_app_metrics(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server, tmp_path, "metrics.sh", "metrics",
                env={"METRICS_COUNT": "10", "METRICS_INTERVAL": "0"})
    assert r.returncode == 0, r.stderr
    m = redis_server.client(2)
    assert [m.get("wrapp:metrics:" + k) for k in ("requests", "queue_depth", "latency_ms",
                                                    "errors")] == [b"10", b"1", b"15", b"1"]
    assert app_lines(redis_server, "metrics")[0] == "metrics: request 1 served in 18 ms"


def test_app_multiline(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server, tmp_path, "multiline.sh", "multiline")
    assert r.returncode == 0, r.stderr
    assert app_lines(redis_server, "multiline") == [
        "multiline: three blocks follow",
        "Traceback (most recent call last):\n  File \"/srv/app.py\", line 12, in handle\n"
        "    reply = compute(request)\nZeroDivisionError: division by zero",
        "after the block: a line of its own",
        "{\n  \"user\": \"alice\",\n\n  \"roles\": [\"admin\", \"ops\"]\n}",
        "multiline: two blocks written; the next one is left open",
        "report (never closed):\n    disk   91%\n    memory 40%"]
    assert redis_server.client(2).get("wrapp:multiline:blocks") == b"2"


def test_app_hang_is_killed_after_the_grace_period(start_wrapp, run_wrapp, redis_server,
                                                  tmp_path):
    e = base_env(redis_server, tmp_path, WRAPP_STREAM_NAME="hang")
    w = start_wrapp(["-t", "1", "--", os.path.join(APPS, "hang.sh")], env=e,
                    prefix=PRIVATE_SPOOL)
    assert wait_for(lambda: any(m.startswith("hang: pid") for m in app_lines(redis_server,
                                                                              "hang")), 10)
    w.kill(signal.SIGTERM)
    r = w.wait(20)
    assert r.returncode == 137, r.stderr
    assert "hang: SIGTERM ignored, still here" in app_lines(redis_server, "hang")
    # HANG_SECONDS ends it by itself.
    r = run_app(run_wrapp, redis_server, tmp_path, "hang.sh", "hang2", env={"HANG_SECONDS": "1"})
    assert r.returncode == 0 and app_lines(redis_server, "hang2")[-1] == "hang: done after 1s"


@pytest.mark.needs_ptrace
def test_app_crash_is_reported_with_its_last_lines(run_wrapp, redis_server, tmp_path):
    r = run_app(run_wrapp, redis_server, tmp_path, "crash.sh", "crash")
    assert r.returncode == 139, r.stderr
    [(_, f)] = entries(redis_server.client(), "logs:app:crash:crash")
    assert f["signal"] == b"SIGSEGV"
    report = json.loads(f["report"])
    assert "crash: loading the model" in json.dumps(report)
    assert redis_server.client(2).get("wrapp:crash:loads") == b"1"
    r = run_app(run_wrapp, redis_server, tmp_path, "crash.sh", "abort",
                env={"CRASH_SIGNAL": "ABRT"})
    assert r.returncode == 134, r.stderr


def test_demo_app_ends_on_sigterm_with_its_own_status(start_wrapp, redis_server, tmp_path):
    e = base_env(redis_server, tmp_path, WRAPP_STREAM_NAME="demo")
    w = start_wrapp(["-t", "5", "--", os.path.join(APPS, "demo-app.sh")], env=e,
                    prefix=PRIVATE_SPOOL)
    assert wait_for(lambda: any("working" in m for m in app_lines(redis_server, "demo")), 10)
    w.kill(signal.SIGTERM)
    r = w.wait(20)
    assert r.returncode == 42, r.stderr
    lines = app_lines(redis_server, "demo")
    assert "demo-app: got SIGTERM, cleaning up" in lines
    assert any(m.startswith("Traceback (most recent call last):\n") for m in lines)
    assert redis_server.client(2).get("wrapp:demo:queue_depth") == b"42"
