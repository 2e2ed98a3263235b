"""The container and cluster files: the Dockerfile lints clean (hadolint), the Kustomize base renders
and validates offline against a pinned Kubernetes version's schemas, and the security properties the
deployment guide promises hold in what is rendered (each rule also shown to catch its violation)."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.32.0"
RAY_PORTS = {6379, 8265, 10001}


def _tool(name: str) -> str:
    found = shutil.which(name) or next((str(p) for p in [Path(sys.executable).parent / name] if p.exists()), None)
    if found is None:
        pytest.skip(f"{name} is not installed (scripts/bootstrap installs the dev extra)")
    return found


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    out = subprocess.run([_tool("kubectl"), "kustomize", str(ROOT / "deploy" / "kubernetes")],
                         capture_output=True, text=True, check=True, timeout=60)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    return list(spec.get("containers", [])) + list(spec.get("initContainers", []))


def problems(docs: list[dict[str, Any]]) -> list[str]:
    """Every broken promise of docs/deployment.md in a set of rendered manifests."""
    found = []
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        for container in _containers(doc):
            context = container.get("securityContext", {})
            where = f"{name}:{container['name']}"
            if context.get("readOnlyRootFilesystem") is not True:
                found.append(f"{where} root filesystem is writable")
            if context.get("allowPrivilegeEscalation") is not False:
                found.append(f"{where} may escalate privileges")
            if "ALL" not in context.get("capabilities", {}).get("drop", []):
                found.append(f"{where} keeps capabilities")
            if not container.get("resources", {}).get("limits") or not container.get("resources", {}).get("requests"):
                found.append(f"{where} has no resource requests and limits")
        if doc["kind"] == "Deployment":
            pod = doc["spec"]["template"]["spec"]
            if pod.get("securityContext", {}).get("runAsNonRoot") is not True:
                found.append(f"{name} may run as root")
            if pod.get("automountServiceAccountToken") is not False:
                found.append(f"{name} mounts a service account token")
        if doc["kind"] == "Service":
            exposed = doc["spec"].get("type", "ClusterIP") != "ClusterIP"
            ports = {p.get("targetPort") if isinstance(p.get("targetPort"), int) else p["port"] for p in doc["spec"]["ports"]}
            if exposed and (ports & RAY_PORTS or doc["metadata"]["name"].startswith("ray")):
                found.append(f"{name} exposes Ray outside the cluster")
    return found


def test_the_kustomize_base_validates_against_the_kubernetes_schemas(rendered):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    kinds = sorted(doc["kind"] for doc in rendered)
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
            "ConfigMap", "ServiceAccount", "Namespace"} <= set(kinds)
    for doc in rendered:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)  # raises on any schema error
    broken = copy.deepcopy(next(d for d in rendered if d["kind"] == "Deployment"))
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_every_container_is_locked_down_and_ray_stays_internal(rendered):
    assert problems(rendered) == []
    api = next(d for d in rendered if d["metadata"]["name"] == "limelight-api" and d["kind"] == "Deployment")
    container = _containers(api)[0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    api_labels = api["spec"]["template"]["metadata"]["labels"]
    hpa = next(d for d in rendered if d["kind"] == "HorizontalPodAutoscaler")
    pdb = next(d for d in rendered if d["kind"] == "PodDisruptionBudget")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "limelight-api"
    assert pdb["spec"]["selector"]["matchLabels"].items() <= api_labels.items()
    ray_policy = next(d for d in rendered if d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "ray-internal-only")
    assert ray_policy["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "ray"}
    allowed = [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in ray_policy["spec"]["ingress"][0]["from"]]
    assert sorted(allowed) == ["limelight", "ray"]
    head = next(d for d in rendered if d["metadata"]["name"] == "ray-head" and d["kind"] == "Deployment")
    assert "--dashboard-host=127.0.0.1" in _containers(head)[0]["command"]
    assert all(not d.get("data", {}).get("LIMELIGHT_SECRET_KEY") for d in rendered if d["kind"] == "ConfigMap")
    assert not any(d["kind"] == "Secret" for d in rendered)  # the operator creates it; no secret ships


def test_the_checks_catch_each_violation(rendered):
    api = copy.deepcopy(next(d for d in rendered if d["metadata"]["name"] == "limelight-api" and d["kind"] == "Deployment"))
    container = api["spec"]["template"]["spec"]["containers"][0]
    del container["securityContext"]["readOnlyRootFilesystem"]
    container["securityContext"]["capabilities"]["drop"] = []
    del container["resources"]["limits"]
    api["spec"]["template"]["spec"]["automountServiceAccountToken"] = True
    ray = copy.deepcopy(next(d for d in rendered if d["metadata"]["name"] == "ray-head" and d["kind"] == "Service"))
    ray["spec"]["type"] = "LoadBalancer"
    found = problems([api, ray])
    assert len(found) == 5, found
    assert any("root filesystem" in p for p in found) and any("exposes Ray" in p for p in found)


def test_the_dockerfile_lints_clean():
    done = subprocess.run([_tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout
    text = (ROOT / "Dockerfile").read_text()
    final_stage = text.rsplit("\nFROM ", 1)[1]
    assert "USER 10001" in final_stage and "HEALTHCHECK" in final_stage and "/healthz" in final_stage
    assert "build-essential" not in final_stage  # no compilers in the image that runs
    flawed = ROOT / "test-artifacts" / "Dockerfile.flawed"
    flawed.parent.mkdir(exist_ok=True)
    flawed.write_text(text.replace("apt-get install -y --no-install-recommends libgomp1", "apt-get install libgomp1"))
    assert subprocess.run([_tool("hadolint"), str(flawed)], capture_output=True, text=True).returncode != 0


def test_the_compose_profile_publishes_only_the_api():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"api", "worker", "postgres", "minio", "createbucket", "redis", "ray-head", "ray-worker"} <= set(services)
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"api"}
    for name, svc in services.items():
        if name in ("createbucket", "worker"):  # one-shot; no port to probe (a worker's lease is its health)
            continue
        assert "healthcheck" in svc, name
    assert "--dashboard-host=127.0.0.1" in services["ray-head"]["command"]
    assert services["api"]["read_only"] is True and services["api"]["cap_drop"] == ["ALL"]
    assert services["api"]["environment"]["LIMELIGHT_MODE"] == "production"
    depends = services["api"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["createbucket"]["condition"] == "service_completed_successfully"
