# SPDX-License-Identifier: MIT
"""The minimal image (Containerfile): only /wrapp and what it needs; wrapp is
PID 1 of a podman container, streams the app's lines to a real Redis on the
host network, catches a crash (report in :crash, exit status 128+N) with
--cap-add=SYS_PTRACE and with the default capabilities, falls back to a
plain init when ptrace is forbidden, and `podman stop` ends it within the
grace period."""
import json
import os
import re
import signal
import struct
import tarfile
import time

from conftest import CRASHAPP_STATIC, IMAGE_WRAPP, ROOT, TESTAPP, logs, podman, wait_exit, wait_for

APP = ["-v", f"{TESTAPP}:/app/testapp:ro"]
CRASH = ["-v", f"{CRASHAPP_STATIC}:/app/crashapp:ro"]


def redis_env(redis_server, stream):
    return ["-e", f"WRAPP_REDIS_URL={redis_server.url}", "-e", f"WRAPP_STREAM_NAME={stream}"]


def run(*args, timeout=60):
    """podman run --rm on the host network, to completion."""
    return podman("run", "--rm", "--network=host", *args, timeout=timeout)


def test_image_holds_only_wrapp_passwd_group_and_its_directories(tmp_path):
    cfg = json.loads(podman("image", "inspect", IMAGE_WRAPP, check=True).stdout)[0]["Config"]
    assert cfg["Entrypoint"] == ["/wrapp"]
    name = podman("create", IMAGE_WRAPP, check=True).stdout.strip()
    try:
        tar = tmp_path / "fs.tar"
        podman("export", "-o", str(tar), name, check=True)
        with tarfile.open(tar) as t:
            members = {m.name.lstrip("./"): m for m in t.getmembers()}
            passwd = t.extractfile(members["etc/passwd"]).read().decode()
            elf = t.extractfile(members["wrapp"]).read()
    finally:
        podman("rm", "-f", name)
    files = sorted(n for n, m in members.items() if m.isfile() and m.size > 0)
    assert files == ["etc/group", "etc/passwd", "wrapp"], files
    for d in ("tmp", "var/lib/wrapp/crashes", "var/lib/wrapp/spool", "run/wrapp"):
        assert members[d].isdir(), d
    assert members["tmp"].mode & 0o1777 == 0o1777
    assert members["wrapp"].mode & 0o111
    assert re.search(r"^app:x:1000:1000:", passwd, re.M), passwd
    # Static: no PT_INTERP, so it runs in an otherwise empty image.
    assert not has_interp(elf)


def has_interp(elf):
    """Does this ELF64 little-endian file have a PT_INTERP program header?"""
    assert elf[:5] == b"\x7fELF\x02", elf[:5]
    phoff = struct.unpack_from("<Q", elf, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    return any(struct.unpack_from("<I", elf, phoff + i * phentsize)[0] == 3
               for i in range(phnum))


def test_app_runs_as_pid1_child_and_its_lines_land_in_redis(redis_server):
    r = run(*APP, *redis_env(redis_server, "img"), "-e", "WRAPP_USER=app",
            IMAGE_WRAPP, "/app/testapp", "ids")
    assert r.returncode == 0, r.stderr
    assert "uid=1000 euid=1000 gid=1000" in r.stdout, r.stdout
    msgs = redis_server.messages("logs:app:img:info")
    assert msgs[0].startswith("{{__NEW_RUN_"), msgs
    assert "uid=1000 euid=1000 gid=1000 egid=1000" in msgs, msgs
    assert re.match(r"\{\{__END_RUN_.*_exit_0\}\}", msgs[-1]), msgs
    assert "Executable exited with code 0." in redis_server.messages("logs:app:img:status")


def test_wrapp_is_pid_1_of_the_container(container, redis_server):
    name = container(IMAGE_WRAPP, *APP, *redis_env(redis_server, "pid1"),
                     app=["/app/testapp", "sleep", "30"])
    pid = int(podman("inspect", "--format", "{{.State.Pid}}", name, check=True).stdout)
    assert os.readlink(f"/proc/{pid}/exe").endswith("/wrapp")
    with open(f"/proc/{pid}/status") as f:
        nspid = [ln.split()[1:] for ln in f if ln.startswith("NSpid:")][0]
    assert nspid[-1] == "1", nspid
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        kids = f.read().split()
    assert len(kids) == 1 and os.readlink(f"/proc/{kids[0]}/exe").endswith("testapp")
    assert wait_for(lambda: redis_server.messages("logs:app:pid1:info"), 10)


def test_crash_is_caught_with_sys_ptrace(redis_server, tmp_path):
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    r = run(*CRASH, *redis_env(redis_server, "crash"), "--cap-add=SYS_PTRACE",
            "-v", f"{crashes}:/var/lib/wrapp/crashes", IMAGE_WRAPP, "/app/crashapp", "null")
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    got = redis_server.client().xrange("logs:app:crash:crash")
    assert len(got) == 1, r.stderr
    fields = got[0][1]
    assert fields[b"signal"] == b"SIGSEGV"
    assert b"crash_null" in fields[b"message"], fields[b"message"][:2000]
    report = json.loads(fields[b"report"])
    assert report["signal"]["name"] == "SIGSEGV"
    dirs = [d for d in crashes.iterdir() if (d / "report.json").exists()]
    assert len(dirs) == 1, list(crashes.iterdir())
    assert (dirs[0] / "core").exists()
    assert re.search(r"\{\{__END_RUN_.*_exit_139\}\}",
                     redis_server.messages("logs:app:crash:info")[-1])


def test_crash_is_caught_with_default_capabilities_and_an_unprivileged_app(redis_server):
    # The app is seized before it drops to uid 1000: no CAP_SYS_PTRACE needed.
    r = run(*CRASH, *redis_env(redis_server, "nocap"), "-e", "WRAPP_USER=app",
            IMAGE_WRAPP, "/app/crashapp", "abort")
    assert r.returncode == 128 + signal.SIGABRT, r.stderr
    got = redis_server.client().xrange("logs:app:nocap:crash")
    assert len(got) == 1 and got[0][1][b"signal"] == b"SIGABRT", r.stderr


def no_ptrace_profile(tmp_path):
    """podman's default seccomp profile with ptrace refused (EPERM): what a
    host whose profile forbids ptrace looks like."""
    with open("/usr/share/containers/seccomp.json") as f:
        prof = json.load(f)
    for rule in prof["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n != "ptrace"]
    prof["syscalls"] = [r for r in prof["syscalls"] if r["names"]]
    prof["syscalls"].append({"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
    path = tmp_path / "seccomp-no-ptrace.json"
    path.write_text(json.dumps(prof))
    return path


def test_without_ptrace_one_line_then_a_plain_init(redis_server, tmp_path):
    r = run(*CRASH, *redis_env(redis_server, "noptr"),
            "--security-opt", f"seccomp={no_ptrace_profile(tmp_path)}",
            IMAGE_WRAPP, "/app/crashapp", "null")
    assert r.returncode == 128 + signal.SIGSEGV, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "SYS_PTRACE" in ln]
    assert len(lines) == 1, r.stderr
    assert redis_server.client().xlen("logs:app:noptr:crash") == 0
    errors = redis_server.messages("logs:app:noptr:error")
    assert any("SYS_PTRACE" in m for m in errors), errors
    assert re.search(r"\{\{__END_RUN_.*_exit_139\}\}",
                     redis_server.messages("logs:app:noptr:info")[-1])


def test_podman_stop_ends_the_app_gracefully(container, redis_server):
    name = container(IMAGE_WRAPP, *APP, *redis_env(redis_server, "stop"),
                     app=["/app/testapp", "sleep", "60"])
    assert wait_for(lambda: redis_server.messages("logs:app:stop:info"), 10)
    t0 = time.monotonic()
    podman("stop", "-t", "10", name, check=True, timeout=30)
    took = time.monotonic() - t0
    assert wait_exit(name) == 128 + signal.SIGTERM
    assert took < 5, took
    msgs = redis_server.messages("logs:app:stop:info")
    assert re.match(r"\{\{__END_RUN_.*_exit_143\}\}", msgs[-1]), msgs


def test_podman_stop_of_an_app_ignoring_term_kills_it_after_wrapps_grace(container, redis_server):
    # wrapp's grace (2 s) runs out before podman's stop timeout (10 s): wrapp
    # kills the app itself, reports 137, and still writes its end marker.
    name = container(IMAGE_WRAPP, *APP, *redis_env(redis_server, "grace"), "-e", "WRAPP_GRACE=2",
                     app=["/app/testapp", "ignore-term"])
    assert wait_for(lambda: redis_server.messages("logs:app:grace:info"), 10)
    time.sleep(0.3)
    t0 = time.monotonic()
    podman("stop", "-t", "10", name, check=True, timeout=30)
    took = time.monotonic() - t0
    assert wait_exit(name) == 128 + signal.SIGKILL
    assert 1.8 < took < 8, took
    msgs = redis_server.messages("logs:app:grace:info")
    assert re.match(r"\{\{__END_RUN_.*_exit_137\}\}", msgs[-1]), (msgs, logs(name))


def test_both_containerfiles_copy_every_source_directory_the_makefile_compiles():
    # The builder copies source directories one by one (build/ must stay out
    # of the context's copy); a new directory in SRCS must be added there too.
    with open(os.path.join(ROOT, "Makefile")) as f:
        srcs = re.search(r"^SRCS\s*:=\s*\$\(wildcard ([^)]*)\)", f.read(), re.M).group(1)
    dirs = {os.path.dirname(p) for p in srcs.split()}
    for name in ("Containerfile", "Containerfile.ubuntu22"):
        with open(os.path.join(ROOT, name)) as f:
            copied = set(re.findall(r"^COPY (\S+) \1$", f.read(), re.M))
        assert dirs <= copied, (name, dirs - copied)


def builder_stage(name):
    with open(os.path.join(ROOT, name)) as f:
        text = f.read()
    return re.search(r"^FROM \$\{\w+\} AS builder\n(.*?)^FROM ", text, re.M | re.S).group(1)


# The Debian package holding each library the Makefile links.
LIB_PACKAGES = {"hiredis": "libhiredis-dev", "unwind-ptrace": "libunwind-dev",
                "unwind-generic": "libunwind-dev", "unwind": "libunwind-dev", "dw": "libdw-dev",
                "elf": "libelf-dev", "z": "zlib1g-dev", "lzma": "liblzma-dev",
                "bz2": "libbz2-dev", "zstd": "libzstd-dev", "crypto": "libssl-dev",
                "ssl": "libssl-dev", "seccomp": "libseccomp-dev", "pthread": "libc6-dev",
                "m": "libc6-dev"}


def test_builder_stages_are_the_same_and_install_every_library_the_makefile_links():
    # The same text, so the second image reuses the first one's layers.
    stage = builder_stage("Containerfile")
    assert stage == builder_stage("Containerfile.ubuntu22")
    with open(os.path.join(ROOT, "Makefile")) as f:
        m = re.search(r"^LIBS\s*:=((?:.*\\\n)*.*)$", f.read(), re.M)
    libs = re.findall(r"-l([\w+-]+)", m.group(1))
    assert libs, m.group(0)
    unknown = [lib for lib in libs if lib not in LIB_PACKAGES]
    assert not unknown, f"add the Debian -dev package of {unknown} to LIB_PACKAGES and the builder"
    missing = {LIB_PACKAGES[lib] for lib in libs} - set(stage.split())
    assert not missing, missing
