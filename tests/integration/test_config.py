# SPDX-License-Identifier: MIT
"""The config file through the real binary: the Go form, the tini form with
-c, and bad configs (one line naming file, key, expected, found; exit 2;
nothing started)."""
import json

import pytest


def write(tmp_path, obj, name="wrapp.json"):
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return str(p)


def test_go_form_runs_the_configured_app(run_wrapp, testapp, tmp_path):
    cfg = write(tmp_path, {"app": {"executable": testapp, "args": ["args", "a b", ""]},
                           "_instructions": ["ignored"]})
    r = run_wrapp([cfg])
    assert r.returncode == 0, r.stderr
    assert [bytes.fromhex(l).decode() for l in r.stdout.splitlines()] == \
        [testapp, "args", "a b", ""]


def test_command_after_dashdash_overrides_the_config(run_wrapp, testapp, tmp_path):
    cfg = write(tmp_path, {"app": {"executable": "/nonexistent", "env": {"WRAPP_TEST_VAR": "v"}}})
    r = run_wrapp(["-c", cfg, "--", testapp, "ids"])
    assert r.returncode == 0, r.stderr
    assert "WRAPP_TEST_VAR=v" in r.stdout


def test_config_from_environment(run_wrapp, testapp, tmp_path):
    cfg = write(tmp_path, {"app": {"executable": testapp, "args": ["exit", "6"]}})
    assert run_wrapp([], env={"WRAPP_CONFIG": cfg}).returncode == 6


def test_config_user_and_workdir(run_wrapp, testapp, tmp_path):
    cfg = write(tmp_path, {"app": {"executable": testapp, "args": ["ids"], "user": "nobody",
                                   "workdir": "/tmp"}})
    r = run_wrapp([cfg])
    assert "uid=65534" in r.stdout and "cwd=/tmp" in r.stdout, r.stderr


def test_config_init_section_grace(start_wrapp, testapp, tmp_path):
    import signal
    import time
    cfg = write(tmp_path, {"app": {"executable": testapp, "args": ["ignore-term"]},
                           "init": {"grace_seconds": 0.2}})
    w = start_wrapp([cfg])
    assert w.proc.stdout.readline().strip() == b"ready"
    w.kill(signal.SIGTERM)
    assert w.wait().returncode == 137


@pytest.mark.parametrize("text,message", [
    ('{"app": {"executable": "x",}}', "invalid JSON at line 1, column "),
    ('{"redis": {"port": "6379"}, "app": {"executable": "x"}}',
     "redis.port: expected an integer in range, found a string"),
    ('{"app": {"executable": "x", "args": "--verbose"}}',
     "app.args: expected an array of strings, found a string"),
    ('{"app": {"executable": 5}}', "app.executable: expected a string, found a number"),
    ('{"app": {}}', "app.executable: missing"),
    ('[]', "top level: expected an object, found an array"),
])
def test_bad_config_is_one_clear_line_and_exit_2(run_wrapp, tmp_path, text, message):
    marker = tmp_path / "started"
    cfg = write(tmp_path, text)
    r = run_wrapp([cfg])
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"wrapp: error: config {cfg}: ")
    assert message in lines[0]
    assert not marker.exists()


def test_missing_config_file(run_wrapp, tmp_path):
    r = run_wrapp([str(tmp_path / "none.json")])
    assert r.returncode == 2
    assert "none.json: cannot read it" in r.stderr and "No such file" in r.stderr


def test_no_argument_prints_usage_and_exits_2(run_wrapp):
    r = run_wrapp([])
    assert r.returncode == 2
    assert r.stderr.startswith("Usage: wrapp CONFIG.json")


def test_help_and_version(run_wrapp):
    r = run_wrapp(["--help"])
    assert r.returncode == 0 and r.stdout.startswith("Usage:")
    r = run_wrapp(["--version"])
    assert r.returncode == 0 and r.stdout.startswith("tini version ")


def test_behaves_the_same_under_another_name(tmp_path, testapp):
    import os
    import shutil
    import subprocess
    from conftest import WRAPP
    tini = tmp_path / "tini"
    shutil.copy(WRAPP, tini)
    r = subprocess.run([str(tini), "-s", "-e", "3", "--", testapp, "exit", "3"], timeout=10)
    assert r.returncode == 0
