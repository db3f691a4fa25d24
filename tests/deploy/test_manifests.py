"""The deployment files: Kubernetes manifests valid against the Kubernetes schemas (strictly, so a
misspelt field fails), the fleet file inside the ConfigMap a valid fleet, and every command in the
manifests and the compose file one that our command lines accept."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from cpppo.server.enip import fleet as fleet_command
from cpppo.server.enip import main as server_command

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _accepted(args: list[str]) -> None:
    """What the image's entry point would run with ``args`` parses (argparse exits 2 otherwise)."""
    if args and args[0] == "enip_fleet":
        fleet_command._parser().parse_args(args[1:])
    else:
        server_command._parser().parse_args(["--address", ":44818", *args])


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_kubernetes_manifests_are_valid(path):
    docs = _documents(path)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
        spec = doc.get("spec", {}).get("template", {}).get("spec")
        for container in (spec or {}).get("containers", []):
            _accepted(container["args"])


def test_the_configmap_holds_a_valid_fleet_file(tmp_path):
    (config_map,) = [d for d in _documents(DEPLOY / "kubernetes" / "plant.yaml") if d["kind"] == "ConfigMap"]
    plant = tmp_path / "plant.toml"
    plant.write_text(config_map["data"]["plant.toml"])
    specs = fleet_command.load_fleet(plant)
    ports = sorted(s.address[1] for s in specs)
    (deployment,) = [d for d in _documents(DEPLOY / "kubernetes" / "plant.yaml") if d["kind"] == "Deployment"]
    published = sorted(p["containerPort"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"])
    assert ports == published  # every device's port is published, and nothing else


def test_the_compose_file_runs_commands_we_accept():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert set(compose["services"]) == {"line", "packaging", "pumps"}
    for service in compose["services"].values():
        _accepted(service["command"])
        assert service.get("image") == "cpppo:local"
