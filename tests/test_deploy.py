"""Deployment files: the Kubernetes manifests validate against the Kubernetes schemas (kubernetes-validate
ships them in its wheel: no network) and hang together; docker-compose runs replicas behind a proxy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ticketpilot.config import EngineConfig, load_settings

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSIONS = ("1.30.0", "latest")
"""The oldest minor still commonly supported by managed clusters, and the newest the validator knows."""

kubernetes_validate = pytest.importorskip("kubernetes_validate")


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def _one(kind: str) -> dict[str, Any]:
    found = [doc for _, doc in _manifests() if doc["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_for_kubernetes(version: str) -> None:
    if version == "latest":
        version = kubernetes_validate.latest_version()
    manifests = _manifests()
    kinds = {doc["kind"] for _, doc in manifests}
    assert kinds >= {
        "Namespace", "ConfigMap", "Secret", "Deployment", "Service", "Ingress", "PodDisruptionBudget",
        "NetworkPolicy",
    }  # fmt: skip
    for name, doc in manifests:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(
                f"{name}: {doc['kind']} invalid for Kubernetes {version}: {exc.message} at {exc.path}"
            )


def test_kustomization_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    images = {i["name"] for i in kustomization["images"]}
    containers = _one("Deployment")["spec"]["template"]["spec"]["containers"]
    assert {c["image"] for c in containers} <= images


def _container() -> dict[str, Any]:
    (container,) = _one("Deployment")["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _environment() -> dict[str, str]:
    config = _one("ConfigMap")
    secret = _one("Secret")
    env_from = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in _container()["envFrom"]}
    assert env_from == {config["metadata"]["name"], secret["metadata"]["name"]}
    values = {**config["data"], **secret["stringData"]}
    assert all(isinstance(v, str) for v in values.values()), "ConfigMap and Secret values must be strings"
    return values


def test_the_configuration_in_configmap_and_secret_loads_in_live_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the pod gets is a complete, valid live configuration (every key exists, no credential missing)."""
    import os

    for key in list(os.environ):
        if key.startswith("TICKETPILOT_") and not key.startswith("TICKETPILOT_TEST_"):
            monkeypatch.delenv(key)
    env = _environment()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(ROOT / "config.toml")  # the image's config.toml, overridden by the env
    assert settings.adapters.mode == "live"
    assert settings.database.url.get_secret_value().startswith("postgresql://")
    assert settings.teams.approval_signing_key.get_secret_value(), "replicas must share the link signing key"
    assert settings.http.public_url.startswith("https://")
    secret_keys = set(_one("Secret")["stringData"])
    assert not {k for k in _one("ConfigMap")["data"] if re.search(r"SECRET|TOKEN|PASSWORD|KEY|__URL$", k)} - {
        "TICKETPILOT_HTTP__PUBLIC_URL",
        "TICKETPILOT_HALOPSA__BASE_URL",
    }, "credentials belong in the Secret"
    assert "TICKETPILOT_DATABASE__URL" in secret_keys


def test_deployment_runs_three_replicas_with_probes_and_a_drain_that_fits_the_grace_period() -> None:
    deployment = _one("Deployment")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    container = _container()
    env = _environment()
    assert spec["replicas"] == 3
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert _matches(spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"])

    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == int(env["TICKETPILOT_HTTP__PORT"])
    liveness, readiness = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
    assert (liveness["path"], readiness["path"]) == ("/healthz", "/readyz")
    assert liveness["port"] in ports and readiness["port"] in ports

    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    drain_s = float(env.get("TICKETPILOT_ENGINE__SHUTDOWN_GRACE_S", EngineConfig().shutdown_grace_s))
    assert drain_s < 30, "the drain stays inside Kubernetes' default grace"
    assert pod["terminationGracePeriodSeconds"] >= int(pre_stop[1]) + drain_s + 5

    security = container["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] and security["allowPrivilegeEscalation"] is False
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f"USER {pod['securityContext']['runAsUser']}" in dockerfile


def test_service_budget_and_policy_select_the_pods() -> None:
    labels = _one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert _matches(_one("Service")["spec"]["selector"], labels)
    pdb = _one("PodDisruptionBudget")["spec"]
    assert _matches(pdb["selector"]["matchLabels"], labels)
    assert pdb.get("maxUnavailable") == 1 or pdb.get("minAvailable", 0) >= 2
    assert _matches(_one("NetworkPolicy")["spec"]["podSelector"]["matchLabels"], labels)
    backend = _one("Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == _one("Service")["metadata"]["name"]


def test_network_policy_admits_only_the_proxy_and_reaches_only_what_the_service_uses() -> None:
    policy = _one("NetworkPolicy")["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    (ingress,) = policy["ingress"]
    (peer,) = ingress["from"]
    # One peer with both selectors: pods of the ingress controller, in its namespace (not any pod there).
    assert "ingress" in str(peer["namespaceSelector"]) and "ingress" in str(peer["podSelector"])
    assert [p["port"] for p in ingress["ports"]] == [int(_environment()["TICKETPILOT_HTTP__PORT"])]

    allowed = set()
    for rule in policy["egress"]:
        assert rule.get("ports"), "no egress rule without ports"
        assert rule.get("to"), "no egress rule to everywhere"
        allowed |= {(p.get("protocol", "TCP"), p["port"]) for p in rule["ports"]}
    assert allowed == {("UDP", 53), ("TCP", 53), ("TCP", 5432), ("TCP", 6379), ("TCP", 443)}
    (vendors,) = [
        r for r in policy["egress"] if ("TCP", 443) in {(p["protocol"], p["port"]) for p in r["ports"]}
    ]
    (block,) = vendors["to"]
    assert "10.0.0.0/8" in block["ipBlock"]["except"], "443 egress is for public vendors, not the cluster"


def test_compose_runs_replicas_behind_a_reverse_proxy() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    app = services["ticketpilot"]
    assert app["deploy"]["replicas"] >= 2
    assert "ports" not in app, "replicas publish no host port: the proxy does"
    assert "TICKETPILOT_TEAMS__APPROVAL_SIGNING_KEY" in app["environment"]
    grace = int(str(app["stop_grace_period"]).removesuffix("s"))
    assert grace >= EngineConfig().shutdown_grace_s + 5

    proxies = [s for s in services.values() if any("nginx.conf" in v for v in s.get("volumes", []))]
    (proxy,) = proxies
    assert proxy["ports"]
    mount = next(v for v in proxy["volumes"] if "nginx.conf" in v)
    conf = (ROOT / mount.split(":")[0].removeprefix("./")).read_text(encoding="utf-8")
    assert re.search(r"server\s+ticketpilot:8080\s+resolve", conf), "every replica, re-resolved"
    assert re.search(r"proxy_next_upstream[^;]*http_503[^;]*non_idempotent", conf)
    assert "location /webhooks/" in conf
