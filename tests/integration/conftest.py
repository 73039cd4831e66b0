# SPDX-License-Identifier: MIT
"""Fixtures for integration tests: the real static wrapp binary, run as PID 1
of a new pid namespace (unshare --pid --fork --mount-proc), or as a plain
process; the testapp helper; and a real redis-server for later suites."""
import os
import shutil
import signal
import subprocess
import time

import pytest

WRAPP = os.environ.get("WRAPP", os.path.join(os.path.dirname(__file__), "../../build/wrapp"))
TESTAPP = os.environ.get("TESTAPP", os.path.join(os.path.dirname(__file__), "../../build/testapp"))
UNSHARE = [shutil.which("unshare") or "/usr/bin/unshare", "--pid", "--fork", "--mount-proc"]


def wait_for(pred, timeout=10.0, interval=0.01):
    """Poll pred() until it is truthy; return its value or None at timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return None


class Wrapp:
    """A running wrapp (PID 1 in its namespace unless pid1=False)."""

    def __init__(self, args, pid1=True, env=None, cwd=None, stdin=subprocess.DEVNULL, prefix=()):
        cmd = (UNSHARE if pid1 else []) + list(prefix) + [WRAPP] + list(args)
        full_env = dict(os.environ)
        for k in [k for k in full_env if k.startswith(("WRAPP_", "TINI_"))]:
            del full_env[k]
        full_env.update(env or {})
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=stdin, env=full_env, cwd=cwd)
        self.pid1 = pid1
        self._host_pid = None

    @property
    def host_pid(self):
        """wrapp's pid as seen from here (unshare's forked child)."""
        if not self.pid1:
            return self.proc.pid
        if self._host_pid is None:
            def child():
                try:
                    with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                        kids = f.read().split()
                except OSError:
                    return None
                return int(kids[0]) if kids else None
            self._host_pid = wait_for(child, 5)
            assert self._host_pid, "unshare did not start wrapp"
            # Wait until the child has exec'd wrapp itself.
            wait_for(lambda: os.readlink(f"/proc/{self._host_pid}/exe").endswith("wrapp"), 5)
        return self._host_pid

    def kill(self, sig):
        os.kill(self.host_pid, sig)

    def wait(self, timeout=20):
        out, err = self.proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode,
                                           out.decode(errors="replace"),
                                           err.decode(errors="replace"))

    def close(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.host_pid, signal.SIGKILL)
            except (OSError, AssertionError):
                pass
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture
def start_wrapp():
    """start_wrapp(args, pid1=True, env=None) -> Wrapp; killed at teardown."""
    started = []

    def start(args, **kw):
        w = Wrapp(args, **kw)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()


@pytest.fixture
def run_wrapp(start_wrapp):
    """run_wrapp(args, ...) -> CompletedProcess of wrapp run to completion."""
    def run(args, timeout=20, **kw):
        return start_wrapp(args, **kw).wait(timeout)
    return run


@pytest.fixture
def testapp():
    return TESTAPP


@pytest.fixture
def record(tmp_path):
    """A signal-record file for testapp sigrecord, with helpers."""
    class Record:
        path = str(tmp_path / "signals")

        def ready(self, timeout=10):
            assert wait_for(lambda: os.path.exists(self.path + ".ready"), timeout), \
                "testapp did not become ready"

        def signals(self):
            try:
                with open(self.path) as f:
                    return [tuple(int(x) for x in line.split()) for line in f if line.strip()]
            except FileNotFoundError:
                return []

        def wait_signal(self, sig, timeout=5):
            return wait_for(lambda: [s for s in self.signals() if s[0] == sig], timeout)
    return Record()


class RedisServer:
    """A real redis-server on a free loopback port, in its own directory."""

    def __init__(self, workdir, port=None, extra=()):
        self.dir = str(workdir)
        self.port = port or free_port()
        self.extra = list(extra)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", self.dir, "--daemonize", "no", "--loglevel", "warning"] + self.extra,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(self.ping, 10), "redis-server did not start"
        return self

    def ping(self):
        try:
            return self.client().ping()
        except Exception:
            return False

    def client(self, db=1):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=10)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_server(tmp_path):
    """A running redis-server (no persistence); stopped at teardown."""
    d = tmp_path / "redis"
    d.mkdir()
    srv = RedisServer(d).start()
    yield srv
    srv.kill()


@pytest.fixture
def make_redis(tmp_path):
    """make_redis(port=None, extra=()) -> RedisServer, not started."""
    made = []

    def make(**kw):
        d = tmp_path / f"redis{len(made)}"
        d.mkdir()
        srv = RedisServer(d, **kw)
        made.append(srv)
        return srv
    yield make
    for srv in made:
        srv.kill()


def entries(client, key, chunk=50000):
    """[(id, {field: bytes})] of a stream, read in chunks."""
    out, start = [], "-"
    while True:
        got = client.xrange(key, start, "+", count=chunk)
        out += [(i, {k.decode(): v for k, v in f.items()}) for i, f in got]
        if len(got) < chunk:
            return out
        start = "(" + got[-1][0].decode()
