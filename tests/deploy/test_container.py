"""The container image: built for real with podman from the repository's Containerfile, run with a
port published on 127.0.0.1, and read and written by our client through it.

The CI machines reach Debian's mirror and PyPI but no container registry (see CONTAINERS.md in the
shared notes), so the base image is a minimal Debian root file system built with mmdebstrap from
the mirror this machine uses, imported as ``localhost/cpppo-base`` and cached between runs; pip
inside the build gets the host's CA bundle as a build secret, never stored in the image.
``.ci/run`` installs podman and mmdebstrap.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpppo.server.enip import client

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CPPPO_TEST_CACHE", "/var/tmp/cpppo-test"))
BASE = "localhost/cpppo-base"
IMAGE = "localhost/cpppo-test:latest"
CONF = """[containers]
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def _mirror() -> str:
    """The Debian mirror apt uses here (deb822 sources or a sources.list line)."""
    for path in [*Path("/etc/apt/sources.list.d").glob("*.sources"), Path("/etc/apt/sources.list")]:
        text = path.read_text() if path.is_file() else ""
        found = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s+bookworm", text, re.M)
        if found:
            return found.group(1)
    return "http://deb.debian.org/debian"


def _podman(env: dict[str, str], *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["podman", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode:
        raise AssertionError(f"podman {' '.join(args[:2])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


@pytest.fixture(scope="module")
def podman_env(tmp_path_factory) -> dict[str, str]:
    assert shutil.which("podman") and shutil.which("mmdebstrap"), \
        "this test needs podman and mmdebstrap (.ci/run installs them: apt-get install podman runc uidmap " \
        "slirp4netns fuse-overlayfs mmdebstrap)"
    conf = tmp_path_factory.mktemp("podman") / "containers.conf"
    conf.write_text(CONF)
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    if _podman(env, "image", "exists", BASE, check=False).returncode:
        CACHE.mkdir(parents=True, exist_ok=True)
        rootfs = CACHE / "rootfs.tar"
        if not rootfs.is_file():
            partial = CACHE / f"rootfs-{uuid.uuid4().hex}.tar"
            subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase",
                            "--include=python3,python3-venv,ca-certificates", "bookworm", str(partial),
                            f"deb {_mirror()} bookworm main"], check=True, capture_output=True, timeout=900)
            partial.rename(rootfs)
        _podman(env, "import", str(rootfs), BASE)
    return env


@pytest.fixture(scope="module")
def image(podman_env) -> str:
    args = ["build", "--format", "docker", "--build-arg", f"BASE={BASE}", "-t", IMAGE, "-f",
            str(ROOT / "Containerfile")]
    bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if bundle.is_file():
        args += ["--secret", f"id=pipcert,src={bundle}"]
    _podman(podman_env, *args, str(ROOT), timeout=900)
    return IMAGE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def container(podman_env, image) -> Iterator[tuple[str, int]]:
    name, port = f"cpppo-test-{uuid.uuid4().hex[:8]}", _free_port()
    _podman(podman_env, "run", "-d", "--init", "--name", name, "-p", f"127.0.0.1:{port}:44818", image,
            "SCADA=dint[1000]", "TEXT=SSTRING[10]")
    try:
        yield name, port
    finally:
        _podman(podman_env, "rm", "-f", "-t", "0", name, check=False, timeout=60)


def test_the_image_serves_a_simulated_plc_on_a_published_port(podman_env, container):
    name, port = container
    deadline = time.monotonic() + 60
    while True:
        try:
            with client.connector(host="127.0.0.1", port=port, timeout=5) as conn:
                failures, values = conn.process(client.parse_operations(
                    ["SCADA[1]=(DINT)99", "SCADA[0-3]", 'TEXT[0]=(SSTRING)"hi"', "TEXT[0]"]), timeout=5)
            break
        except Exception:
            if time.monotonic() > deadline:
                logs = _podman(podman_env, "logs", name, check=False).stdout
                raise AssertionError(f"the container never answered; its output:\n{logs}") from None
            time.sleep(0.3)
    assert failures == 0 and values[1] == [0, 99, 0, 0] and values[3] == ["hi"]
    inspect = json.loads(_podman(podman_env, "inspect", name).stdout)[0]
    assert inspect["Config"]["User"] == "cpppo"  # not root
    health = _podman(podman_env, "healthcheck", "run", name, check=False)
    assert health.returncode == 0, health.stdout + health.stderr  # List Identity answered inside


def test_the_image_runs_the_other_commands(podman_env, image):
    done = _podman(podman_env, "run", "--rm", image, "enip_fleet", "--help", timeout=120)
    assert "usage: enip_fleet" in done.stdout
    size = int(_podman(podman_env, "image", "inspect", "--format", "{{.Size}}", image).stdout.strip())
    assert size < 400 * 2**20  # a minimal base, a venv and cpppo: no compilers, no caches
