# SPDX-License-Identifier: MIT
"""The deployment files in docker/: what can run here runs.

- compose.yaml: its wiring is checked (the ridler secret's path, Redis ACL
  user, stream names); its services are run by hand with podman (Redis from
  the service's own command, the app and the reader in the built ubuntu22
  image with the secret mounted where the file says); and the whole file runs
  under Debian's podman-compose, with a Redis image built on the local base
  (no registry).
- Quadlet files: parsed and checked (podman 4.3 here has no Quadlet).
- Kubernetes: both manifests under `podman kube play`. The Deployment's
  Secret volume is swapped for a hostPath holding the same file: podman 4.3
  mounts Secrets wrongly (`stringData` gives an empty directory, `data` is
  written still base64-encoded)."""
import os
import re
import shutil
import subprocess
import uuid

import pytest
import redis
import yaml

from conftest import (IMAGE_BASE, IMAGE_UBUNTU, IMAGE_WRAPP, ROOT, TESTAPP, Redis, logs, podman,
                      wait_exit, wait_for)

DOCKER = os.path.join(ROOT, "docker")


def load(*path):
    with open(os.path.join(DOCKER, *path)) as f:
        return list(yaml.safe_load_all(f))


def env_of(service):
    env = service.get("environment", {})
    return dict(e.split("=", 1) for e in env) if isinstance(env, list) else env


# compose.yaml

def test_compose_wires_the_ridler_secret_redis_user_and_stream():
    c = load("compose.yaml")[0]
    svc = c["services"]
    assert set(svc) == {"redis", "app", "reader"}
    src = c["secrets"]["redis-password"]["file"]
    assert src == "./secrets/redis-password"
    assert os.path.exists(os.path.join(DOCKER, "secrets", ".gitignore"))
    for name in ("app", "reader"):
        env = env_of(svc[name])
        d = env["WRAPP_REDIS_SECRETS_DIR"]
        assert env["WRAPP_REDIS_HOST"] == "redis" and env["WRAPP_STREAM_NAME"] == "example"
        targets = [s["target"] for s in svc[name]["secrets"] if s["source"] == "redis-password"]
        assert targets == [d + "/password"], (name, targets)
    user = os.path.basename(env_of(svc["app"])["WRAPP_REDIS_SECRETS_DIR"])
    cmd = svc["redis"]["command"][-1]
    assert f"--user {user} on" in cmd and "--user default off" in cmd, cmd
    target = svc["redis"]["secrets"][0]["target"]
    assert f"cat {target}" in cmd
    assert svc["reader"]["entrypoint"][:3] == ["/usr/local/bin/wrapp", "logs", "-f"]
    assert svc["reader"]["entrypoint"][-2:] == ["--stream", "example"]
    assert svc["app"]["cap_add"] == ["SYS_PTRACE"]


def shell(cmd):
    """A compose command string as the shell in the container sees it."""
    return cmd.replace("$$", "$")


def test_compose_services_run_by_hand(tmp_path):
    c = load("compose.yaml")[0]
    svc = c["services"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    password = secrets / "redis-password"
    password.write_text("pw-" + uuid.uuid4().hex + "\n")
    # Redis: the service's command, run by the host's redis-server on a free
    # port, with the secret where the service reads it.
    cmd = shell(svc["redis"]["command"][-1])
    cmd = cmd.replace(svc["redis"]["secrets"][0]["target"], str(password))
    cmd = cmd.replace("exec redis-server", "exec redis-server {opts}")
    user = os.path.basename(env_of(svc["app"])["WRAPP_REDIS_SECRETS_DIR"])
    pw = password.read_text().strip()
    srv = Redis(tmp_path, command=cmd, auth=(user, pw))
    name = "wrapp-test-compose-" + uuid.uuid4().hex[:8]
    try:
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(port=srv.port, socket_timeout=5).ping()

        def run_args(service):
            env = env_of(svc[service])
            env.update(WRAPP_REDIS_HOST="127.0.0.1", WRAPP_REDIS_PORT=str(srv.port))
            args = ["--network=host"]
            for k, v in env.items():
                args += ["-e", f"{k}={v}"]
            for s in svc[service]["secrets"]:
                args += ["-v", f"{password}:{s['target']}:ro"]
            for cap in svc[service].get("cap_add", []):
                args += ["--cap-add", cap]
            return args

        podman("run", "-d", "--name", name, *run_args("app"), IMAGE_UBUNTU,
               *[shell(a) for a in svc["app"]["command"]], check=True)
        db1 = srv.client()
        key = "logs:app:example:info"
        assert wait_for(lambda: db1.xlen(key) >= 3, 15), logs(name)
        msgs = [f[b"message"].decode() for _, f in db1.xrange(key)]
        assert msgs[1:3] == ["tick 1", "tick 2"], msgs
        db2 = srv.client(db=2)
        assert int(db2.get("wrapp:example:ticks")) >= 2
        # The reader, without -f so that it ends.
        entry = [a for a in svc["reader"]["entrypoint"] if a != "-f"]
        r = podman("run", "--rm", *run_args("reader"), "--entrypoint", entry[0], IMAGE_UBUNTU,
                   *entry[1:], check=True, timeout=60)
        assert "tick 1\ntick 2\n" in r.stdout, r.stdout + r.stderr
        assert pw not in r.stdout + r.stderr + logs(name)
        podman("stop", "-t", "15", name, check=True, timeout=60)
        assert wait_exit(name) == 143
    finally:
        podman("rm", "-f", "-t", "0", name)
        srv.stop()


COMPOSE = shutil.which("podman-compose")


def redis_image(tmp_path):
    """An image with Debian's redis-server, built on the local base."""
    ctx = tmp_path / "redis-image"
    ctx.mkdir()
    (ctx / "Containerfile").write_text(
        f"FROM {IMAGE_BASE}\n"
        "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
        "--no-install-recommends redis-server >/dev/null && rm -rf /var/lib/apt/lists/*\n")
    tag = "localhost/wrapp-test-redis:test"
    podman("build", "--pull=never", "--network=host", "-q", "-t", tag, str(ctx), check=True,
           timeout=300)
    return tag


@pytest.mark.skipif(not COMPOSE, reason="needs podman-compose (make image-deps)")
def test_compose_up_streams_the_app_through_redis_to_the_reader(tmp_path):
    work = tmp_path / "docker"
    shutil.copytree(DOCKER, work)
    pw = "pw-" + uuid.uuid4().hex
    (work / "secrets" / "redis-password").write_text(pw + "\n")
    project = "wrapptest" + uuid.uuid4().hex[:8]
    env = dict(os.environ, REDIS_IMAGE=redis_image(tmp_path), WRAPP_IMAGE=IMAGE_UBUNTU)

    def compose(*args):
        return subprocess.run([COMPOSE, "-p", project, "-f", "compose.yaml", *args], cwd=work,
                              env=env, capture_output=True, text=True, timeout=120)
    try:
        r = compose("up", "-d")
        assert r.returncode == 0, r.stdout + r.stderr
        reader = f"{project}_reader_1"
        assert wait_for(lambda: "tick 2\n" in logs(reader), 30), logs(reader)
        out = logs(reader)
        assert out.startswith("{{__NEW_RUN_") and "tick 1\ntick 2\n" in out, out
        assert pw not in out + logs(f"{project}_app_1")
    finally:
        compose("down")
        podman("network", "rm", f"{project}_default")


# Quadlet

QUADLET_KEYS = {"ContainerName", "Image", "Exec", "Environment", "Secret", "Volume",
                "AddCapability", "PublishPort", "Network", "User", "Label"}


def quadlet(name):
    """[(section, key, value)] of a systemd unit file (keys may repeat)."""
    out, section = [], None
    with open(os.path.join(DOCKER, "quadlet", name)) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            m = re.fullmatch(r"\[(\w+)\]", line)
            if m:
                section = m.group(1)
                continue
            k, sep, v = line.partition("=")
            assert sep and section, f"{name}: bad line {line!r}"
            out.append((section, k, v))
    return out


def container_keys(entries):
    keys = {}
    for section, k, v in entries:
        if section == "Container":
            keys.setdefault(k, []).append(v)
    return keys


def quadlet_env(keys):
    env = {}
    for line in keys.get("Environment", []):
        env.update(kv.split("=", 1) for kv in line.split())
    return env


@pytest.mark.parametrize("name", ["wrapp-app.container", "wrapp-app-debug.container"])
def test_quadlet_files_use_known_keys_and_the_ridler_secret(name):
    entries = quadlet(name)
    assert {s for s, _, _ in entries} <= {"Unit", "Container", "Service", "Install"}
    keys = container_keys(entries)
    assert set(keys) <= QUADLET_KEYS, set(keys) - QUADLET_KEYS
    env = quadlet_env(keys)
    d = env["WRAPP_REDIS_SECRETS_DIR"]
    assert keys["Secret"] == [f"redis-password,type=mount,target={d}/password"]
    if "debug" in name:
        assert keys["AddCapability"] == ["SYS_PTRACE"]
        assert env["WRAPP_DEBUG"] == "1"
        port = env["WRAPP_DEBUG_PORT"]
        assert keys["PublishPort"] == [f"127.0.0.1:{port}:{port}"]
        assert "ubuntu22" in keys["Image"][0]
    else:
        assert "AddCapability" not in keys and "PublishPort" not in keys
        assert "WRAPP_DEBUG" not in env


# Kubernetes

def kube(action, path, timeout=120):
    return podman("kube", action, str(path), timeout=timeout)


def test_deployment_runs_under_kube_play_and_authenticates_from_the_secret_dir(tmp_path):
    docs = load("k8s", "deployment.yaml")
    secret, dep = docs
    assert secret["kind"] == "Secret" and "password" in secret["stringData"]
    spec = dep["spec"]["template"]["spec"]
    c = spec["containers"][0]
    env = {e["name"]: e["value"] for e in c["env"]}
    d = env["WRAPP_REDIS_SECRETS_DIR"]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in spec["volumes"]}
    sec = [n for n, v in vols.items() if "secret" in v]
    assert len(sec) == 1 and mounts[sec[0]]["mountPath"] == d
    assert vols[sec[0]]["secret"]["secretName"] == secret["metadata"]["name"]
    assert vols[sec[0]]["secret"]["items"] == [{"key": "password", "path": "password"}]
    assert c["command"] == ["/wrapp", "--"]
    assert spec["terminationGracePeriodSeconds"] >= 10

    # The app: the test app on top of the wrapp image, as the comment says.
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    shutil.copy(TESTAPP, ctx / "testapp")
    (ctx / "Containerfile").write_text(f"FROM {IMAGE_WRAPP}\nCOPY testapp /app/testapp\n")
    image = "localhost/wrapp-test-app:" + uuid.uuid4().hex[:8]
    podman("build", "--pull=never", "-q", "-t", image, str(ctx), check=True)

    secret_dir = tmp_path / "secret"
    secret_dir.mkdir()
    (secret_dir / "password").write_text(secret["stringData"]["password"])
    user = os.path.basename(d)
    srv_dir = tmp_path / "redis"
    srv_dir.mkdir()
    pw = secret["stringData"]["password"]
    srv = Redis(srv_dir, extra=["--user", "default", "off", "--user", user, "on", ">" + pw,
                                "~*", "&*", "+@all"], auth=(user, pw))
    spec["hostNetwork"] = True
    c["image"] = image
    c["args"] = ["/app/testapp", "lines", "5", "0"]
    for e in c["env"]:
        if e["name"] == "WRAPP_REDIS_HOST":
            e["value"] = "127.0.0.1"
        elif e["name"] == "WRAPP_REDIS_PORT":
            e["value"] = str(srv.port)
    vols[sec[0]].pop("secret")
    vols[sec[0]]["hostPath"] = {"path": str(secret_dir), "type": "Directory"}
    for v in vols.values():
        if "emptyDir" in v:
            v.pop("emptyDir")
            p = tmp_path / v["name"]
            p.mkdir()
            v["hostPath"] = {"path": str(p), "type": "Directory"}
    manifest = tmp_path / "deployment.yaml"
    manifest.write_text(yaml.safe_dump(dep))
    try:
        r = kube("play", manifest)
        assert r.returncode == 0, r.stderr
        db1 = srv.client()
        key = f"logs:app:{env['WRAPP_STREAM_NAME']}:info"
        assert wait_for(lambda: db1.xlen(key) >= 7, 20), r.stdout
        msgs = [f[b"message"].decode() for _, f in db1.xrange(key)]
        assert msgs[1:6] == [f"line {i}" for i in range(5)], msgs
    finally:
        kube("down", manifest)
        podman("rmi", "-f", image)
        srv.stop()


def test_debug_pod_sidecar_snapshots_the_app_through_the_shared_pid_namespace(tmp_path):
    pod = load("k8s", "debug-pod.yaml")[0]
    assert pod["spec"]["shareProcessNamespace"] is True
    names = [c["name"] for c in pod["spec"]["containers"]]
    assert names == ["app", "debug"]
    debug = pod["spec"]["containers"][1]
    assert debug["securityContext"]["capabilities"]["add"] == ["SYS_PTRACE"]
    assert "wrapp snapshot" in debug["args"][0]
    with open(os.path.join(DOCKER, "k8s", "debug-pod.yaml")) as f:
        text = f.read()
    manifest = tmp_path / "debug-pod.yaml"
    manifest.write_text(re.sub(r"localhost/wrapp-ubuntu22:latest", IMAGE_UBUNTU, text))
    pod_name = pod["metadata"]["name"]
    try:
        r = kube("play", manifest)
        assert r.returncode == 0, r.stderr
        side = f"{pod_name}-debug"
        reply = re.compile(r"^ok /var/lib/wrapp/crashes/\S+ stopped [\d.]+ ms", re.M)
        assert wait_for(lambda: reply.search(logs(side)), 30), logs(side)
        # More on demand, as the comment says, with a core this time.
        r = podman("exec", side, "wrapp", "snapshot", "--core", check=True)
        assert reply.search(r.stdout) and r.stdout.rstrip().endswith("core"), r.stdout
        r = podman("exec", f"{pod_name}-app", "sh", "-c", "ls /var/lib/wrapp/crashes", check=True)
        assert len(r.stdout.split()) == 2, r.stdout
    finally:
        kube("down", manifest)
