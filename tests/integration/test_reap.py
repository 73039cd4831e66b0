# SPDX-License-Identifier: MIT
"""Reaping: orphans reparented to wrapp never stay zombies, as PID 1 and
as a subreaper; the remaining tree is ended when the app exits."""
import signal
import time

import pytest

from conftest import wait_for


def test_10000_orphans_leave_no_zombie_as_pid1(run_wrapp, testapp):
    r = run_wrapp(["--", testapp, "orphans", "10000"], timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "zombies=0" in r.stdout


def test_orphans_reaped_as_subreaper(run_wrapp, testapp):
    r = run_wrapp(["--", testapp, "orphans", "500"], pid1=False, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "zombies=0" in r.stdout


def test_warn_on_reap(run_wrapp, testapp):
    r = run_wrapp(["-w", "--", testapp, "orphans", "3"])
    assert r.returncode == 0
    assert r.stderr.count("reaped zombie process with pid=") == 3, r.stderr


def test_main_exit_with_simultaneous_orphan_exit(run_wrapp):
    # The app and an orphan exit at the same moment: coalesced SIGCHLDs must
    # not hide the app's exit (the run would hang).
    for _ in range(20):
        r = run_wrapp(["--", "sh", "-c", "(exit 0 &) ; exit 7"], timeout=10)
        assert r.returncode == 7


def test_leftover_processes_get_term_when_app_exits(start_wrapp, testapp, record):
    # The app starts a background process and exits; the process is told to
    # stop (TERM) and wrapp exits with the app's code once it is gone.
    w = start_wrapp(["--", "sh", "-c", f"{testapp} sigrecord {record.path} & "
                     f"while [ ! -e {record.path}.ready ]; do sleep 0.01; done; exit 3"])
    r = w.wait()
    assert r.returncode == 3
    assert [s for s, _ in record.signals()] == [signal.SIGTERM]


def test_leftover_ignoring_term_is_killed_after_grace(start_wrapp, testapp):
    t0 = time.monotonic()
    w = start_wrapp(["-t", "0.5", "--", "sh", "-c",
                     f"({testapp} ignore-term &) ; sleep 0.3; exit 4"])
    r = w.wait()
    assert r.returncode == 4
    assert time.monotonic() - t0 < 5
    assert "still running 500 ms after SIGTERM" in r.stderr


def test_leftovers_ended_as_plain_process_too(start_wrapp, testapp, record):
    w = start_wrapp(["--", "sh", "-c", f"({testapp} sigrecord {record.path} &); "
                     f"while [ ! -e {record.path}.ready ]; do sleep 0.01; done; exit 0"],
                    pid1=False)
    assert w.wait().returncode == 0
    assert [s for s, _ in record.signals()] == [signal.SIGTERM]
