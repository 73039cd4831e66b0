# SPDX-License-Identifier: MIT
"""Fixtures for the image tests (`make test-images`): podman with the repo's
containers.conf, the images `make images` built (IMAGE_BASE, IMAGE_WRAPP,
IMAGE_UBUNTU), the static test apps bind-mounted into them, and a real
redis-server on a free loopback port that containers reach through
--network=host."""
import os
import shlex
import subprocess
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from polling import free_port, wait_for  # noqa: E402,F401 (the tests import them from here)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
IMAGE_BASE = os.environ.get("IMAGE_BASE", "localhost/wrapp-base:bookworm")
IMAGE_WRAPP = os.environ.get("IMAGE_WRAPP", "localhost/wrapp:test")
IMAGE_UBUNTU = os.environ.get("IMAGE_UBUNTU", "localhost/wrapp-ubuntu22:test")
TESTAPP = os.environ.get("TESTAPP", os.path.join(ROOT, "build/testapp"))
CRASHAPP_STATIC = os.environ.get("CRASHAPP_STATIC", os.path.join(ROOT, "build/crashapp-static"))
CONTAINERS_CONF = os.environ.get("CONTAINERS_CONF", os.path.join(HERE, "containers.conf"))


def podman(*args, timeout=120, check=False, **kw):
    """Run podman with this repo's containers.conf; CompletedProcess (text)."""
    env = dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF)
    r = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout,
                       env=env, **kw)
    if check:
        assert r.returncode == 0, f"podman {' '.join(args)}: rc {r.returncode}\n{r.stderr}"
    return r


def podman_popen(*args):
    env = dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF)
    return subprocess.Popen(["podman", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


@pytest.fixture(scope="session", autouse=True)
def images_present():
    for image in (IMAGE_WRAPP, IMAGE_UBUNTU):
        if podman("image", "exists", image).returncode != 0:
            pytest.exit(f"image {image} missing; build it with: make images", returncode=1)
    for app in (TESTAPP, CRASHAPP_STATIC):
        if not os.access(app, os.X_OK):
            pytest.exit(f"{app} missing; build it with: make test-images", returncode=1)


class Redis:
    """A real redis-server on 127.0.0.1 (no persistence), in its own directory.
    command: a shell command starting a redis-server, given its port options
    ({opts}); auth: (user, password) for every client."""

    def __init__(self, workdir, extra=(), command=None, auth=None):
        self.port = free_port()
        self.auth = auth
        opts = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(workdir), "--loglevel", "warning"]
        argv = ["redis-server", *opts, *extra]
        if command:
            argv = ["sh", "-c", command.format(opts=" ".join(shlex.quote(o) for o in opts))]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(self.ping, 10):
            self.stop()
            raise AssertionError("redis-server did not start")

    def ping(self):
        try:
            return self.client().ping()
        except Exception:
            return False

    def client(self, db=1):
        import redis
        user, password = self.auth or (None, None)
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=10,
                           username=user, password=password)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def messages(self, key):
        return [f[b"message"].decode(errors="replace") for _, f in self.client().xrange(key)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    d = tmp_path / "redis"
    d.mkdir()
    srv = Redis(d)
    yield srv
    srv.stop()


@pytest.fixture
def container():
    """container(image, *run_args, app=[...]) -> name: `podman run -d` on the
    host network; removed at teardown. wait(name) gives its exit status."""
    names = []

    def run(image, *args, app=()):
        name = "wrapp-test-" + uuid.uuid4().hex[:10]
        names.append(name)
        podman("run", "-d", "--name", name, "--network=host", *args, image, *app, check=True)
        return name

    yield run
    for name in names:
        podman("rm", "-f", "-t", "0", name)


def wait_exit(name, timeout=60):
    """The exit status of container name, once it has stopped."""
    r = podman("wait", name, timeout=timeout, check=True)
    return int(r.stdout.strip().splitlines()[-1])


def logs(name):
    r = podman("logs", name, check=True)
    return r.stdout + r.stderr
