# SPDX-License-Identifier: MIT
"""Exit status: the app's code, 128+signal when killed, remapping, and
failures to start (127 not found, 126 not executable)."""
import os
import signal
import stat

import pytest


def test_exit_codes_0_to_255_are_passed_through(run_wrapp, testapp):
    # One namespace per code would take minutes; a shell loop runs each code
    # through a nested wrapp that is not PID 1 (same code path for the
    # status), and the outer one checks a few as PID 1.
    script = ("for i in $(seq 0 255); do %s -- %s exit $i; r=$?; "
              "[ $r -eq $i ] || { echo bad $i $r; exit 1; }; done; echo all-ok" % (
                  os.environ.get("WRAPP", "build/wrapp"), testapp))
    r = run_wrapp(["--", "sh", "-c", script], timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all-ok" in r.stdout


@pytest.mark.parametrize("code", [0, 1, 2, 42, 126, 127, 128, 255])
def test_exit_code_as_pid1(run_wrapp, testapp, code):
    r = run_wrapp([testapp, "exit", str(code)])
    assert r.returncode == code, r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL, signal.SIGUSR1, signal.SIGHUP])
def test_death_by_signal_is_128_plus_signal(run_wrapp, testapp, sig):
    r = run_wrapp(["--", testapp, "die", str(int(sig))])
    assert r.returncode == 128 + sig, r.stderr


def test_segv_is_139(run_wrapp, testapp):
    assert run_wrapp([testapp, "die", "segv"]).returncode == 139


def test_abort_is_134(run_wrapp, testapp):
    assert run_wrapp([testapp, "die", "abort"]).returncode == 134


def test_remap_exit_code(run_wrapp, testapp):
    assert run_wrapp(["-e", "143", "-e", "3", "--", testapp, "exit", "3"]).returncode == 0
    assert run_wrapp(["-e", "143", "--", testapp, "die", "15"]).returncode == 0
    assert run_wrapp(["-e", "143", "--", testapp, "exit", "4"]).returncode == 4


def test_not_found_is_127_with_one_line(run_wrapp):
    r = run_wrapp(["--", "no-such-program-xyz", "a"])
    assert r.returncode == 127
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "no-such-program-xyz" in lines[0] and "not found" in lines[0]


def test_not_executable_is_126(run_wrapp, tmp_path):
    f = tmp_path / "script"
    f.write_text("#!/bin/sh\necho hi\n")
    f.chmod(0o644)
    r = run_wrapp(["--", str(f)])
    assert r.returncode == 126
    assert str(f) in r.stderr and "permission denied" in r.stderr


def test_directory_is_126(run_wrapp, tmp_path):
    r = run_wrapp(["--", str(tmp_path)])
    assert r.returncode == 126, r.stderr


def test_script_without_shebang_runs_with_sh(run_wrapp, tmp_path):
    f = tmp_path / "noshebang"
    f.write_text("exit 9\n")
    f.chmod(0o755)
    assert run_wrapp(["--", str(f)]).returncode == 9


def test_path_lookup_uses_path(run_wrapp, tmp_path, testapp):
    d = tmp_path / "bin"
    d.mkdir()
    os.symlink(testapp, d / "mytool")
    r = run_wrapp(["--", "mytool", "exit", "5"], env={"PATH": f"/nonexistent:{d}"})
    assert r.returncode == 5, r.stderr


def test_plain_process_not_pid1(run_wrapp, testapp):
    r = run_wrapp(["--", testapp, "exit", "17"], pid1=False)
    assert r.returncode == 17
    assert r.stderr == ""
