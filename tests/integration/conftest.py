# SPDX-License-Identifier: MIT
"""Fixtures for integration tests: the real static wrapp binary, run as PID 1
of a new pid namespace (unshare --pid --fork --mount-proc), or as a plain
process; the testapp helper; and a real redis-server for later suites."""
import os
import shutil
import signal
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from polling import free_port, wait_for  # noqa: E402,F401 (tests import them from here)

WRAPP = os.environ.get("WRAPP", os.path.join(os.path.dirname(__file__), "../../build/wrapp"))
TESTAPP = os.environ.get("TESTAPP", os.path.join(os.path.dirname(__file__), "../../build/testapp"))
UNSHARE = [shutil.which("unshare") or "/usr/bin/unshare", "--pid", "--fork", "--mount-proc"]


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


class SentinelSetup:
    """A master, a replica and three redis-server --sentinel processes
    watching it as "mymaster", all on free loopback ports; data_pass and
    sentinel_pass set requirepass on the data nodes and on the sentinels."""

    def __init__(self, workdir, n_sentinels=3, down_after_ms=1000, data_pass=None,
                 sentinel_pass=None):
        self.dir = workdir
        self.data_pass, self.sentinel_pass = data_pass, sentinel_pass
        auth = ["--requirepass", data_pass, "--masterauth", data_pass] if data_pass else []
        self.master = RedisServer(self._mkdir("master"), extra=auth)
        self.replica = RedisServer(self._mkdir("replica"), extra=auth)
        self.sentinels = []
        self.n_sentinels = n_sentinels
        self.down_after_ms = down_after_ms

    def _mkdir(self, name):
        d = self.dir / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def _start_node(self, srv):
        srv.proc = subprocess.Popen(
            ["redis-server", "--port", str(srv.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", srv.dir, "--loglevel", "warning"] + srv.extra,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(lambda: self._ping(self.data(srv.port)), 10), "redis-server did not start"

    @staticmethod
    def _ping(c):
        try:
            return c.ping()
        except Exception:
            return False

    def data(self, port, db=1):
        import redis
        return redis.Redis(host="127.0.0.1", port=int(port), db=db, password=self.data_pass,
                           socket_timeout=10)

    def _sentinel_conf(self, d, port):
        text = f"port {port}\nbind 127.0.0.1\ndir {d}\n"
        if self.sentinel_pass:
            text += f"requirepass {self.sentinel_pass}\nsentinel sentinel-pass {self.sentinel_pass}\n"
        text += f"sentinel monitor mymaster 127.0.0.1 {self.master.port} 2\n"
        if self.data_pass:
            text += f"sentinel auth-pass mymaster {self.data_pass}\n"
        text += (f"sentinel down-after-milliseconds mymaster {self.down_after_ms}\n"
                 "sentinel failover-timeout mymaster 10000\n"
                 "sentinel parallel-syncs mymaster 1\n")
        return text

    def start(self):
        self._start_node(self.master)
        self.replica.extra += ["--replicaof", "127.0.0.1", str(self.master.port)]
        self._start_node(self.replica)
        for i in range(self.n_sentinels):
            d = self._mkdir(f"sentinel{i}")
            port = free_port()
            conf = d / "sentinel.conf"
            conf.write_text(self._sentinel_conf(d, port))
            proc = subprocess.Popen(["redis-server", str(conf), "--sentinel", "--loglevel",
                                     "warning"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            self.sentinels.append((port, proc))
        assert wait_for(self.ready, 30), "sentinels did not see the master and its replica"
        return self

    def sentinel(self, i=0):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.sentinels[i][0], socket_timeout=10,
                           password=self.sentinel_pass, decode_responses=True)

    def ready(self):
        """Every sentinel knows the master, a healthy replica and the others."""
        try:
            for i in range(len(self.sentinels)):
                s = self.sentinel(i)
                reps = s.sentinel_slaves("mymaster")
                if not any("s_down" not in r["flags"] and r["master-link-status"] == "ok"
                           for r in reps):
                    return False
                if len(s.sentinel_sentinels("mymaster")) < len(self.sentinels) - 1:
                    return False
            return True
        except Exception:
            return False

    def master_addr(self):
        for i in range(len(self.sentinels)):
            try:
                return self.sentinel(i).sentinel_get_master_addr_by_name("mymaster")
            except Exception:
                continue
        return None

    def master_client(self, db=1):
        """A client of the master the sentinels name now."""
        return self.data(self.master_addr()[1], db)

    def node(self, port):
        """The RedisServer (master or replica) listening on port."""
        return self.master if int(port) == self.master.port else self.replica

    @property
    def hosts(self):
        return ",".join(f"127.0.0.1:{p}" for p, _ in self.sentinels)

    @property
    def url(self):
        return f"redis-sentinel://{self.hosts}/mymaster"

    def stop(self):
        for _, proc in self.sentinels:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        for srv in (self.master, self.replica):
            srv.kill()


@pytest.fixture
def sentinel_setup(tmp_path):
    """A running Sentinel setup (master, replica, 3 sentinels); stopped at teardown."""
    s = SentinelSetup(tmp_path / "sentinel")
    try:
        yield s.start()
    finally:
        s.stop()


def cluster_port():
    """A free port whose cluster bus port (port + 10000) is valid and free."""
    import socket
    while True:
        p = free_port()
        if p > 55000:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + 10000))
            except OSError:
                continue
        return p


class ClusterNode(RedisServer):
    """A cluster-enabled redis-server: DB 0 only."""

    def ping(self):
        try:
            return self.client(0).ping()
        except Exception:
            return False


class RedisCluster:
    """A Redis Cluster of n masters (no replicas) made with redis-cli --cluster create."""

    def __init__(self, workdir, n=3):
        self.nodes = []
        for i in range(n):
            d = workdir / f"node{i}"
            d.mkdir()
            self.nodes.append(ClusterNode(d, port=cluster_port(), extra=["--cluster-enabled", "yes",
                                                   "--cluster-config-file", str(d / "nodes.conf"),
                                                   "--cluster-node-timeout", "5000"]))

    def start(self):
        for n in self.nodes:
            n.start()
        addrs = [f"127.0.0.1:{n.port}" for n in self.nodes]
        subprocess.run(["redis-cli", "--cluster", "create"] + addrs +
                       ["--cluster-replicas", "0", "--cluster-yes"], check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(self.ok, 30), "the cluster did not reach cluster_state:ok"
        return self

    def ok(self):
        try:
            return all(b"cluster_state:ok" in n.client(0).execute_command("CLUSTER", "INFO")
                       for n in self.nodes)
        except Exception:
            return False

    def client(self):
        import redis.cluster
        return redis.cluster.RedisCluster(host="127.0.0.1", port=self.nodes[0].port,
                                          socket_timeout=10)

    def owner(self, slot):
        """The RedisServer serving slot."""
        for start, end, master, *_ in self.nodes[0].client(0).execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return next(n for n in self.nodes if n.port == int(master[1]))
        return None

    def node_id(self, srv):
        return srv.client(0).execute_command("CLUSTER", "MYID").decode()

    @property
    def url(self):
        return "redis-cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def stop(self):
        for n in self.nodes:
            n.kill()


@pytest.fixture
def redis_cluster(tmp_path):
    """A running 3-master Redis Cluster on loopback ports; stopped at teardown."""
    d = tmp_path / "cluster"
    d.mkdir()
    c = RedisCluster(d)
    try:
        yield c.start()
    finally:
        c.stop()
