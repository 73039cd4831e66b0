# SPDX-License-Identifier: MIT
"""Signal forwarding, process groups, job control, the grace period, and
the signal state the app starts with."""
import os
import signal
import subprocess
import time

import pytest

from conftest import UNSHARE, wait_for

FORWARDED = [signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
             signal.SIGALRM, signal.SIGWINCH, signal.SIGCONT, signal.SIGURG, signal.SIGPIPE,
             signal.SIGRTMIN + 3, signal.SIGRTMAX, signal.SIGTSTP]


@pytest.mark.parametrize("pid1", [True, False], ids=["pid1", "plain"])
def test_every_forwardable_signal_reaches_the_app(start_wrapp, testapp, record, pid1):
    w = start_wrapp(["--", testapp, "sigrecord", record.path], pid1=pid1)
    record.ready()
    for sig in FORWARDED:
        w.kill(sig)
        assert record.wait_signal(sig), f"{signal.Signals(sig).name} not forwarded"
    w.kill(signal.SIGTERM)
    r = w.wait()
    assert record.wait_signal(signal.SIGTERM)
    assert r.returncode == 0, r.stderr
    got = [s for s, _ in record.signals()]
    assert got == [int(s) for s in FORWARDED] + [signal.SIGTERM], "order or duplicates"


def test_fault_signal_sent_with_kill_is_forwarded_not_fatal(start_wrapp, testapp, record):
    w = start_wrapp(["--", testapp, "sigrecord", record.path])
    record.ready()
    w.kill(signal.SIGSEGV)
    assert record.wait_signal(signal.SIGSEGV)
    w.kill(signal.SIGTERM)
    assert w.wait().returncode == 0


def test_group_forwarding_reaches_grandchild(start_wrapp, testapp, record):
    w = start_wrapp(["-g", "--", testapp, "tree", record.path])
    record.ready()
    w.kill(signal.SIGUSR1)
    assert record.wait_signal(signal.SIGUSR1), "-g did not reach the grandchild"
    w.kill(signal.SIGTERM)
    # The group gets TERM: the parent has no handler and dies of it.
    assert w.wait().returncode == 128 + signal.SIGTERM
    assert record.wait_signal(signal.SIGTERM)


def test_tini_env_kill_process_group(start_wrapp, testapp, record):
    w = start_wrapp(["--", testapp, "tree", record.path], env={"TINI_KILL_PROCESS_GROUP": ""})
    record.ready()
    w.kill(signal.SIGUSR1)
    assert record.wait_signal(signal.SIGUSR1)
    w.kill(signal.SIGTERM)
    w.wait()


def test_without_g_only_the_child_gets_signals(start_wrapp, testapp, record):
    w = start_wrapp(["--", testapp, "tree", record.path])
    record.ready()
    w.kill(signal.SIGUSR1)
    time.sleep(0.3)
    w.kill(signal.SIGTERM)   # kills the parent; the grandchild gets TERM from the sweep
    w.wait()
    sigs = [s for s, _ in record.signals()]
    assert signal.SIGUSR1 not in sigs
    assert sigs == [signal.SIGTERM]


def test_child_ignoring_term_is_killed_after_grace(start_wrapp, testapp):
    w = start_wrapp(["-t", "1", "--", testapp, "ignore-term"])
    assert wait_for(lambda: w.proc.stdout.readline().strip() == b"ready", 5)
    t0 = time.monotonic()
    w.kill(signal.SIGTERM)
    r = w.wait()
    took = time.monotonic() - t0
    assert r.returncode == 128 + signal.SIGKILL
    assert 0.9 <= took < 4, took
    assert "still running 1000 ms after the shutdown signal" in r.stderr


def test_grace_from_environment(start_wrapp, testapp):
    w = start_wrapp(["--", testapp, "ignore-term"], env={"WRAPP_GRACE": "0.3"})
    assert wait_for(lambda: w.proc.stdout.readline().strip() == b"ready", 5)
    t0 = time.monotonic()
    w.kill(signal.SIGTERM)
    r = w.wait()
    assert r.returncode == 137
    assert time.monotonic() - t0 < 3


def test_hup_handled_by_app_is_a_reload_not_a_shutdown(start_wrapp, testapp, record):
    w = start_wrapp(["-t", "0.3", "--", testapp, "sigrecord", record.path])
    record.ready()
    w.kill(signal.SIGHUP)
    assert record.wait_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert w.proc.poll() is None, "HUP to an app that handles it must not start the grace"
    w.kill(signal.SIGTERM)
    assert w.wait().returncode == 0


def test_hup_kills_app_without_handler(run_wrapp, start_wrapp, testapp):
    w = start_wrapp(["--", testapp, "sleep", "30"])
    time.sleep(0.3)
    w.kill(signal.SIGHUP)
    assert w.wait().returncode == 128 + signal.SIGHUP


def test_job_control_stop_and_continue_do_not_end_the_run(start_wrapp, testapp):
    w = start_wrapp(["--", testapp, "sleep", "1"])
    child = wait_for(lambda: open(f"/proc/{w.host_pid}/task/{w.host_pid}/children").read().split())
    child = int(child[0])
    os.kill(child, signal.SIGSTOP)
    time.sleep(1.5)
    assert w.proc.poll() is None, "wrapp ended while its child was stopped"
    os.kill(child, signal.SIGCONT)
    assert w.wait().returncode == 0


def test_tstp_forwarded_then_cont_resumes(start_wrapp, testapp):
    w = start_wrapp(["--", testapp, "sleep", "1"])
    time.sleep(0.2)
    w.kill(signal.SIGTSTP)
    time.sleep(1.3)
    assert w.proc.poll() is None
    w.kill(signal.SIGCONT)
    assert w.wait().returncode == 0


def _sigstate(cmd):
    def preexec():
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2, signal.SIGWINCH})
    out = subprocess.run(cmd, stdout=subprocess.PIPE, preexec_fn=preexec, timeout=10).stdout
    return out.decode()


def test_app_starts_with_the_mask_and_ignores_wrapp_started_with(testapp):
    wrapp = os.environ["WRAPP"]
    direct = _sigstate([testapp, "sigstate"])
    via = _sigstate(UNSHARE + [wrapp, "--", testapp,
                     "sigstate"])
    plain = _sigstate([wrapp, "--", testapp, "sigstate"])
    assert via == direct and plain == direct, (direct, via, plain)
    blk = int([l for l in direct.splitlines() if l.startswith("SigBlk")][0].split()[1], 16)
    assert blk & (1 << (signal.SIGUSR2 - 1))


def test_wrapp_adds_no_blocked_or_ignored_signal(run_wrapp, testapp):
    # wrapp blocks nearly every signal and ignores TTIN/TTOU itself; none of
    # that may leak into the app.
    direct = subprocess.run([testapp, "sigstate"], stdout=subprocess.PIPE, timeout=10)
    r = run_wrapp(["--", testapp, "sigstate"])
    assert r.stdout == direct.stdout.decode()
    fields = dict(l.split(":\t") for l in r.stdout.splitlines())
    assert int(fields["SigBlk"], 16) == 0


def test_signal_ignored_at_start_stays_ignored_and_is_not_forwarded(testapp, record):
    # nohup-style: wrapp started with SIGHUP ignored. The app inherits the
    # ignore, and a HUP to wrapp neither reaches it nor starts a shutdown.
    p = subprocess.Popen(UNSHARE + [os.environ["WRAPP"], "-t", "0.3", "--", testapp, "sigrecord",
                                    record.path],
                         preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    try:
        record.ready()
        host = int(open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()[0])
        os.kill(host, signal.SIGHUP)
        time.sleep(0.8)
        assert p.poll() is None, "HUP ignored at start must not stop the app"
        os.kill(host, signal.SIGUSR1)
        assert record.wait_signal(signal.SIGUSR1)
        assert signal.SIGHUP not in [s for s, _ in record.signals()]
        os.kill(host, signal.SIGTERM)
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()


def test_sigchld_ignored_at_start_still_reports_the_exit_code(testapp):
    r = subprocess.run(UNSHARE + [os.environ["WRAPP"], "--", testapp, "exit", "7"],
                       preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN),
                       timeout=10)
    assert r.returncode == 7


def test_pdeathsig_reaches_wrapp_when_its_parent_dies(testapp, record):
    # wrapp's parent (a shell) exits; -p SIGUSR1 makes the kernel send wrapp
    # SIGUSR1, which it forwards like any other signal.
    wrapp = os.environ["WRAPP"]
    subprocess.run(["sh", "-c", f"{wrapp} -p SIGUSR1 -- {testapp} sigrecord {record.path} & "
                    f"while [ ! -e {record.path}.ready ]; do sleep 0.01; done"], timeout=10)
    try:
        assert record.wait_signal(signal.SIGUSR1), "parent-death signal not forwarded"
    finally:
        for pid, in [(p,) for s, p in record.signals()][:1]:
            os.kill(pid, signal.SIGTERM)
