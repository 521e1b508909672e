"""deploy/: structural checks that run here without a registry or a cluster.

Not the official Kubernetes OpenAPI schemas (kubeconform is not on PyPI and
nothing is downloaded): a small JSON schema per kind for the fields we rely
on, plus cross-references (selectors, HPA target, services, commands that
must exist, probes on /healthz, non-root everywhere)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.core.management import get_commands

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
K8S = DEPLOY / "k8s"

CONTAINER = {
    "type": "object",
    "required": ["name", "image", "resources", "securityContext"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9-]+$"},
        "image": {"type": "string"},
        "command": {"type": "array", "items": {"type": "string"}},
        "resources": {
            "type": "object",
            "required": ["requests"],
            "properties": {"requests": {"type": "object", "required": ["cpu", "memory"]}},
        },
        "securityContext": {
            "type": "object",
            "required": ["allowPrivilegeEscalation"],
            "properties": {"allowPrivilegeEscalation": {"const": False}},
        },
    },
}
POD_SPEC = {
    "type": "object",
    "required": ["containers", "securityContext"],
    "properties": {
        "securityContext": {
            "type": "object",
            "required": ["runAsNonRoot", "runAsUser"],
            "properties": {"runAsNonRoot": {"const": True}, "runAsUser": {"type": "integer", "minimum": 1}},
        },
        "containers": {"type": "array", "minItems": 1, "items": CONTAINER},
        "initContainers": {"type": "array", "items": CONTAINER},
    },
}
LABELS = {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1}
SCHEMAS = {
    ("apps/v1", "Deployment"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["replicas", "selector", "template"],
                "properties": {
                    "replicas": {"type": "integer", "minimum": 1},
                    "selector": {"type": "object", "required": ["matchLabels"], "properties": {"matchLabels": LABELS}},
                    "template": {
                        "type": "object",
                        "required": ["metadata", "spec"],
                        "properties": {
                            "metadata": {"type": "object", "required": ["labels"], "properties": {"labels": LABELS}},
                            "spec": POD_SPEC,
                        },
                    },
                },
            }
        },
    },
    ("batch/v1", "Job"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["template"],
                "properties": {"template": {"properties": {"spec": POD_SPEC}}},
            }
        },
    },
    ("v1", "Service"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["selector", "ports"],
                "properties": {"selector": LABELS, "ports": {"type": "array", "minItems": 1}},
            }
        },
    },
    ("autoscaling/v2", "HorizontalPodAutoscaler"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["scaleTargetRef", "minReplicas", "maxReplicas", "metrics"],
                "properties": {"metrics": {"type": "array", "minItems": 1}},
            }
        },
    },
    ("v1", "ConfigMap"): {"type": "object", "required": ["data"], "properties": {"data": LABELS}},
    ("v1", "PersistentVolumeClaim"): {"type": "object", "required": ["spec"]},
    ("policy/v1", "PodDisruptionBudget"): {"type": "object", "required": ["spec"]},
}
BASE = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata"],
    "properties": {
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}},
        }
    },
}


def manifests() -> list[dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    docs = []
    for name in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return docs


def pod_specs(docs):
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            yield d, d["spec"]["template"]["spec"]


def test_every_manifest_listed_and_valid_for_its_kind():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    docs = manifests()
    for doc in docs:
        jsonschema.validate(doc, BASE)
        key = (doc["apiVersion"], doc["kind"])
        assert key in SCHEMAS, f"{doc['metadata']['name']}: unexpected {key}"
        jsonschema.validate(doc, SCHEMAS[key])
    names = [(d["kind"], d["metadata"]["name"]) for d in docs]
    assert len(names) == len(set(names))


def test_the_topology_the_issue_asks_for():
    docs = manifests()
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert {"marquee-web", "marquee-worker", "marquee-beat", "marquee-media", "marquee-edge"} <= set(deployments)
    assert deployments["marquee-beat"]["spec"]["replicas"] == 1
    assert deployments["marquee-edge"]["spec"]["replicas"] >= 2
    # Selectors select their own pods; every service selects a deployment's pods.
    for d in deployments.values():
        assert d["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
    for s in (d for d in docs if d["kind"] == "Service"):
        assert any(
            s["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
            for d in deployments.values()
        ), s["metadata"]["name"]
    # The web autoscaler targets the web deployment, on CPU, which needs CPU requests.
    (hpa,) = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "marquee-web"}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert hpa["spec"]["minReplicas"] >= 2


def test_web_probes_use_healthz_with_an_allowed_host():
    docs = manifests()
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]
    web = next(d for d in docs if d["metadata"]["name"] == "marquee-web" and d["kind"] == "Deployment")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == "/healthz"
        # Django refuses a Host not in ALLOWED_HOSTS (the kubelet sends the pod IP).
        host = {h["name"]: h["value"] for h in get["httpHeaders"]}["Host"]
        assert host in config["ALLOWED_HOSTS"].split(",")


def _commands(argv: list[str]) -> list[list[str]]:
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in re.split(r"&&|;", argv[2])]
    return [argv]


def test_commands_name_things_that_exist():
    makefile = (DEPLOY.parent / "Makefile").read_text()
    commands = get_commands()
    argvs = [
        c.get("command")
        for _, spec in pod_specs(manifests())
        for c in spec["containers"] + spec.get("initContainers", [])
    ]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    argvs += [s.get("command") for s in compose["services"].values()]
    for argv in filter(None, argvs):
        for cmd in _commands(argv):
            if cmd[:2] == ["python", "manage.py"]:
                assert cmd[2] in commands, cmd
            elif cmd[0] == "make":
                assert re.search(rf"^{re.escape(cmd[1])}:", makefile, re.M), cmd
            elif cmd[0] == "celery":
                assert cmd[1:3] == ["-A", "marquee"], cmd
            else:
                assert cmd[0] in ("nginx", "redis-server", "exec", "rm", "mkdir", "uvicorn"), cmd


def test_compose_references_resolve():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat", "media", "edge"} <= set(services)
    for name, service in services.items():
        deps = service.get("depends_on", {})
        assert set(deps) <= set(services), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith((".", "/")) or source in compose["volumes"], (name, volume)


def test_containerfile_is_multi_stage_and_runs_as_non_root():
    text = (DEPLOY / "Containerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\S+)", text, re.M)
    assert len(stages) >= 2
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for stage in stages[:-1]:
        assert f"--from={stage}" in text, f"stage {stage} unused"


@pytest.mark.parametrize("path", sorted(p.name for p in (DEPLOY / "grafana").glob("*.json")))
def test_grafana_dashboard_queries_metrics_we_export(path):
    import json

    from marquee.lib import metrics  # noqa: F401  (registers the process metrics)

    dashboard = json.loads((DEPLOY / "grafana" / path).read_text())
    exported = {
        "marquee_http_requests_total", "marquee_http_request_duration_seconds_bucket", "marquee_live_shows",
        "marquee_chat_sockets", "marquee_integrity_ok", "marquee_chat_deliveries_total",
        "marquee_chat_dropped_frames_total", "marquee_chat_slow_disconnects_total", "marquee_webhooks_total",
        "marquee_ledger_holds", "marquee_private_shows", "marquee_private_billing_periods",
        "marquee_celery_queue_depth", "marquee_integrity_checked_timestamp_seconds",
    }  # fmt: skip
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used = set(re.findall(r"marquee_[a-z_]+", target["expr"]))
            assert used and used <= exported, (panel["title"], used - exported)
