#!/usr/bin/env bash
# Checks the Helm chart (helm/pedigree), the rendered manifests
# (k8s/pedigree.yaml) and the Dockerfile. Exits non-zero on any failure.
#
#   scripts/check-k8s.sh            check everything, including drift of
#                                   k8s/pedigree.yaml against the chart
#   scripts/check-k8s.sh --update   same, but rewrite k8s/pedigree.yaml
#                                   instead of checking it for drift
#
# What it checks:
#   1. helm lint --strict, with the default values and helm/test-values.yaml
#      (which switches on every optional part).
#   2. helm template for three value sets (default; test-values; genesis from
#      an existing ConfigMap), each validated by kubernetes-validate --strict
#      against Kubernetes $KUBE_VERSION (the newest kubernetes-validate
#      knows) and $KUBE_VERSION_OLDEST (the oldest it knows). Every core
#      object must pass; a kind it has no schema for fails (kubernetes-
#      validate itself only warns). The CRD kinds, the Prometheus Operator
#      ServiceMonitor and the cert-manager Certificate, have no schema
#      there: they are split out and checked here against schemas of the
#      fields the chart renders (the Certificate must name every Service);
#      for the ServiceMonitor the fields the chart renders
#      (names and types from monitoring.coreos.com/v1, strict: unknown fields
#      fail), that scrapeTimeout <= interval, and that it selects a rendered
#      Service with the port it scrapes; for the PrometheusRule the fields
#      the chart renders (alerting rules). That is weaker than the real CRD
#      schemas, which are not vendored here.
#   2b. Monitoring (test-values render): `promtool check rules` on the
#      PrometheusRule's groups and `promtool test rules helm/alerts-test.yaml`;
#      the Grafana dashboard ConfigMap parses as JSON; every PromQL
#      expression in the rules and the dashboard selects only metrics the
#      services export (docs/metrics.txt, which a test keeps equal to what
#      the services render).
#   3. Policy on every rendered value set: non-root/read-only/drop-ALL
#      security contexts, resources, native gRPC probes on the plaintext
#      health-only probe port, TLS certificates mounted, /tmp emptyDir,
#      service-account tokens only for the sequencer, grace periods, the
#      sequencer's lease settings, NetworkPolicies, no Secret rendered,
#      a metrics port on every Deployment, its Service and NetworkPolicy.
#   4. Values the chart must reject: schema typos, both genesis sources,
#      bad genesis JSON, a grace period too short, a weakened security
#      context, Kubernetes < 1.25, a plaintext Redis URL without
#      redis.insecurePlaintext, SASL without a mechanism, a Kafka property
#      other than ssl.*/sasl.*.
#   5. Determinism: two renders are byte-identical.
#   6. values.yaml: every value the schema declares has a comment above it.
#   7. Dockerfile: parses with Docker's own parser (PyPI `dockerfile`), the
#      base images, `cargo build --locked` of the four packages, and every
#      binary the chart runs is copied into the image.
#   8. Drift: the default render (release "pedigree", namespace "pedigree")
#      equals k8s/pedigree.yaml.
#
# Tools come from scripts/k8s-tools.sh (cached in
# ${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}).

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

UPDATE=0
case "${1:-}" in
    "") ;;
    --update) UPDATE=1 ;;
    -h | --help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: $0 [--update]" >&2
        exit 2
        ;;
esac

CHART=helm/pedigree
TEST_VALUES=helm/test-values.yaml
RENDERED=k8s/pedigree.yaml
RELEASE=pedigree
NAMESPACE=pedigree
# Newest and oldest Kubernetes versions kubernetes-validate 1.37.0 ships
# schemas for (pinned in k8s-tools.sh). The chart supports >= 1.25; versions
# below 1.33 cannot be checked with it.
KUBE_VERSION=1.37.0
KUBE_VERSION_OLDEST=1.33.0

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=scripts/k8s-tools.sh
if ! source scripts/k8s-tools.sh 2>"$WORK/k8s-tools.log"; then
    cat "$WORK/k8s-tools.log" >&2
    echo "check-k8s: FAILED: could not provide helm/kubectl/kubernetes-validate/promtool" >&2
    exit 1
fi
HELM="$PEDIGREE_TOOLS_BIN/helm"
KV="$PEDIGREE_TOOLS_BIN/kubernetes-validate"
PROMTOOL="$PEDIGREE_TOOLS_BIN/promtool"
PY="$PEDIGREE_TOOLS_PYTHON"
echo "check-k8s: $("$HELM" version --short), kubernetes-validate $("$KV" --version), validating against Kubernetes $KUBE_VERSION and $KUBE_VERSION_OLDEST"

FAILURES=()
fail() {
    echo "  FAIL: $*" >&2
    FAILURES+=("$*")
}
step() { echo "==> $*"; }

render() { # render OUT [helm template args...]
    local out="$1"
    shift
    "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" \
        --kube-version "$KUBE_VERSION" "$@" >"$out" 2>"$out.err"
}

# ---------------------------------------------------------------------------
# Python helpers (run with the tools venv: PyYAML, jsonschema, dockerfile).
cat >"$WORK/k8scheck.py" <<'PY'
"""check-k8s.sh helpers: split, ServiceMonitor check, policy, values docs, Dockerfile."""
import json
import re
import sys

import yaml


def docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


# Kinds validated here rather than by kubernetes-validate (CRDs).
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule"),
             ("cert-manager.io/v1", "Certificate")}

DURATION = r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"
LABELS = {"type": "object", "additionalProperties": {"type": "string"}}
SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "matchLabels": LABELS,
        "matchExpressions": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "operator"],
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"type": "string"},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
# The ServiceMonitor fields this chart renders, with the names, types,
# patterns and enums of monitoring.coreos.com/v1; anything else is rejected.
SERVICE_MONITOR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "maxLength": 253,
                         "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"},
                "namespace": {"type": "string"},
                "labels": LABELS,
                "annotations": LABELS,
            },
        },
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["endpoints", "selector"],
            "properties": {
                "selector": SELECTOR,
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "any": {"type": "boolean"},
                        "matchNames": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "jobLabel": {"type": "string"},
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": {"type": "string", "pattern": DURATION},
                            "scrapeTimeout": {"type": "string", "pattern": DURATION},
                            "honorLabels": {"type": "boolean"},
                            "tlsConfig": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "serverName": {"type": "string"},
                                    "ca": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "properties": {
                                            "secret": {
                                                "type": "object",
                                                "additionalProperties": False,
                                                "required": ["name", "key"],
                                                "properties": {"name": {"type": "string"}, "key": {"type": "string"}},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


# The cert-manager Certificate fields this chart renders (cert-manager.io/v1).
CERTIFICATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "cert-manager.io/v1"},
        "kind": {"const": "Certificate"},
        "metadata": SERVICE_MONITOR["properties"]["metadata"],
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["secretName", "issuerRef", "dnsNames"],
            "properties": {
                "secretName": {"type": "string", "minLength": 1},
                "issuerRef": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "kind": {"enum": ["Issuer", "ClusterIssuer"]},
                        "group": {"type": "string"},
                    },
                },
                "usages": {"type": "array", "items": {"enum": ["server auth", "client auth", "digital signature",
                                                                "key encipherment"]}},
                "dnsNames": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
            },
        },
    },
}


# The PrometheusRule fields this chart renders (monitoring.coreos.com/v1):
# alerting rules only; promtool checks the PromQL and templates.
PROMETHEUS_RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PrometheusRule"},
        "metadata": SERVICE_MONITOR["properties"]["metadata"],
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["groups"],
            "properties": {
                "groups": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "rules"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "interval": {"type": "string", "pattern": DURATION},
                            "rules": {
                                "type": "array",
                                "minItems": 1,
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["alert", "expr"],
                                    "properties": {
                                        "alert": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                                        "expr": {"type": "string", "minLength": 1},
                                        "for": {"type": "string", "pattern": DURATION},
                                        "labels": LABELS,
                                        "annotations": LABELS,
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def seconds(d):
    total = 0.0
    for n, unit in re.findall(r"([0-9]+)(ms|y|w|d|h|m|s)", d):
        total += int(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400,
                           "w": 604800, "y": 31536000}[unit]
    return total


def split(path, core_out):
    """Write the core objects to core_out (their count to core_out.count);
    check CRD objects here; exit 1 on a CRD problem."""
    import jsonschema

    all_docs = docs(path)
    core = [d for d in all_docs if (d.get("apiVersion"), d.get("kind")) not in CRD_KINDS]
    crds = [d for d in all_docs if (d.get("apiVersion"), d.get("kind")) in CRD_KINDS]
    errors = []
    services = [d for d in core if d.get("kind") == "Service"]
    for cert in [d for d in crds if d.get("kind") == "Certificate"]:
        name = cert.get("metadata", {}).get("name")
        for e in jsonschema.Draft7Validator(CERTIFICATE).iter_errors(cert):
            errors.append(f"Certificate {name}: {'.'.join(map(str, e.path))}: {e.message}")
        names = set(cert.get("spec", {}).get("dnsNames", []))
        for s in services:
            if s["metadata"]["name"] not in names:
                errors.append(f"Certificate {name}: does not name Service {s['metadata']['name']}")
        if not errors:
            print(f"  ok: Certificate/{name} (chart-field schema, names every Service)")
    for rule in [d for d in crds if d.get("kind") == "PrometheusRule"]:
        name = rule.get("metadata", {}).get("name")
        before = len(errors)
        for e in jsonschema.Draft7Validator(PROMETHEUS_RULE).iter_errors(rule):
            errors.append(f"PrometheusRule {name}: {'.'.join(map(str, e.path))}: {e.message}")
        if len(errors) == before:
            print(f"  ok: PrometheusRule/{name} (chart-field schema)")
    for sm in [d for d in crds if d.get("kind") == "ServiceMonitor"]:
        name = sm.get("metadata", {}).get("name")
        for e in jsonschema.Draft7Validator(SERVICE_MONITOR).iter_errors(sm):
            errors.append(f"ServiceMonitor {name}: {'.'.join(map(str, e.path))}: {e.message}")
        spec = sm.get("spec", {})
        want = spec.get("selector", {}).get("matchLabels", {})
        matched = [s for s in services
                   if want and all(s["metadata"].get("labels", {}).get(k) == v for k, v in want.items())]
        if len(matched) != 1:
            errors.append(f"ServiceMonitor {name}: selects {len(matched)} rendered Services, expected 1")
        for ep in spec.get("endpoints", []):
            if matched and ep.get("port") not in [p.get("name") for p in matched[0]["spec"]["ports"]]:
                errors.append(f"ServiceMonitor {name}: Service has no port named {ep.get('port')!r}")
            if "interval" in ep and "scrapeTimeout" in ep and seconds(ep["scrapeTimeout"]) > seconds(ep["interval"]):
                errors.append(f"ServiceMonitor {name}: scrapeTimeout exceeds interval (the operator rejects it)")
        if not errors:
            print(f"  ok: ServiceMonitor/{name} (chart-field schema, selector and port)")
    with open(core_out, "w") as f:
        yaml.safe_dump_all(core, f, sort_keys=False)
    with open(core_out + ".count", "w") as f:
        f.write(str(len(core)))
    for e in errors:
        print("  " + e, file=sys.stderr)
    return 1 if errors else 0


def policy(path):
    """Platform policy the rendered manifests must meet."""
    objs = docs(path)
    errs = []
    by_kind = {}
    for o in objs:
        by_kind.setdefault(o["kind"], []).append(o)
    if "Secret" in by_kind:
        errs.append("the chart renders a Secret: keys and passwords must come from existing Secrets")
    deps = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in by_kind.get("Deployment", [])}
    if sorted(deps) != ["custody", "sequencer", "verifier"]:
        errs.append(f"expected Deployments custody, sequencer, verifier; got {sorted(deps)}")
    for comp, d in deps.items():
        where = f"Deployment {d['metadata']['name']}"
        probe_ports = [p["containerPort"] for c in d["spec"]["template"]["spec"]["containers"]
                       for p in c.get("ports", []) if p.get("name") == "probe"]
        # Metrics: a container port named metrics, the Service exposing it, the NetworkPolicy admitting it.
        metrics_ports = [p["containerPort"] for c in d["spec"]["template"]["spec"]["containers"]
                         for p in c.get("ports", []) if p.get("name") == "metrics"]
        if len(metrics_ports) != 1:
            errs.append(f"{where}: needs one container port named metrics")
        svcs = [s for s in by_kind.get("Service", []) if s["metadata"]["name"] == d["metadata"]["name"]]
        if not any(p.get("targetPort") == "metrics" for s in svcs for p in s["spec"]["ports"]):
            errs.append(f"{where}: its Service has no metrics port")
        for n in by_kind.get("NetworkPolicy", []):
            if n["metadata"]["name"] == d["metadata"]["name"] and not any(
                    p.get("port") in metrics_ports for r in n["spec"].get("ingress", []) for p in r["ports"]):
                errs.append(f"NetworkPolicy {n['metadata']['name']}: does not admit the metrics port")
        pod = d["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        for k, v in {"runAsNonRoot": True, "runAsUser": 65532}.items():
            if psc.get(k) != v:
                errs.append(f"{where}: pod securityContext.{k} must be {v}")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            errs.append(f"{where}: pod seccompProfile must be RuntimeDefault")
        env_all = {}
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            for k, v in {"runAsNonRoot": True, "readOnlyRootFilesystem": True,
                         "allowPrivilegeEscalation": False}.items():
                if sc.get(k) != v:
                    errs.append(f"{where}/{c['name']}: securityContext.{k} must be {v}")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                errs.append(f"{where}/{c['name']}: capabilities must drop ALL")
            if sc.get("capabilities", {}).get("add"):
                errs.append(f"{where}/{c['name']}: adds capabilities")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in res.get(kind, {}):
                        errs.append(f"{where}/{c['name']}: no {kind}.{r}")
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                p = c.get(probe)
                if not p:
                    errs.append(f"{where}/{c['name']}: no {probe}")
                elif probe != "readinessProbe" and p.get("grpc", {}).get("port") not in probe_ports:
                    errs.append(f"{where}/{c['name']}: {probe} must be a native grpc probe on the probe port")
                elif probe == "readinessProbe" and "grpc" not in p and p.get("httpGet", {}).get("path") != "/readyz":
                    errs.append(f"{where}/{c['name']}: readinessProbe must be grpc or GET /readyz")
            if not any(m["mountPath"] == "/tmp" for m in c.get("volumeMounts", [])):
                errs.append(f"{where}/{c['name']}: no /tmp mount")
            if not any(m["mountPath"] == "/etc/pedigree" and m.get("readOnly") for m in c.get("volumeMounts", [])):
                errs.append(f"{where}/{c['name']}: genesis not mounted read-only at /etc/pedigree")
            for e in c.get("env", []):
                env_all[e["name"]] = e
            # TLS on: a certificate, unless plaintext was asked for by name; the probe port is health only.
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if env.get("PEDIGREE_INSECURE_PLAINTEXT") != "true":
                if env.get("PEDIGREE_TLS_CERT") != "/etc/pedigree-tls/server/tls.crt" or \
                        not any(m["mountPath"] == "/etc/pedigree-tls/server" and m.get("readOnly")
                                for m in c.get("volumeMounts", [])):
                    errs.append(f"{where}/{c['name']}: no TLS certificate (PEDIGREE_TLS_CERT, /etc/pedigree-tls/server)")
        if not any("emptyDir" in v and v["name"] == "tmp" for v in pod.get("volumes", [])):
            errs.append(f"{where}: /tmp is not an emptyDir")
        want_token = comp == "sequencer"
        if pod.get("automountServiceAccountToken") is not want_token:
            errs.append(f"{where}: automountServiceAccountToken must be {want_token}")
        if pod.get("serviceAccountName") != d["metadata"]["name"]:
            errs.append(f"{where}: must run as its own ServiceAccount")
        if pod.get("enableServiceLinks") is not False:
            errs.append(f"{where}: enableServiceLinks must be false (PEDIGREE_* service env vars)")
        ann = d["spec"]["template"]["metadata"].get("annotations", {})
        if "checksum/config" not in ann:
            errs.append(f"{where}: no checksum/config annotation")
        # Grace: the kubelet must not SIGKILL a draining service.
        cms = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
        grace = None
        metrics_addr = None
        for c in pod["containers"]:
            for ef in c.get("envFrom", []):
                cm = cms.get(ef.get("configMapRef", {}).get("name"), {})
                grace = cm.get("data", {}).get("PEDIGREE_SHUTDOWN_GRACE_SECS", grace)
                metrics_addr = cm.get("data", {}).get("PEDIGREE_METRICS_ADDR", metrics_addr)
        if metrics_addr != f"0.0.0.0:{metrics_ports[0] if metrics_ports else None}":
            errs.append(f"{where}: PEDIGREE_METRICS_ADDR {metrics_addr!r} is not its metrics port")
        sleep = sum(c.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
                    for c in pod["containers"])
        if grace is None or pod.get("terminationGracePeriodSeconds", 30) <= int(grace) + sleep:
            errs.append(f"{where}: terminationGracePeriodSeconds must exceed PEDIGREE_SHUTDOWN_GRACE_SECS + preStop sleep")
        if comp == "sequencer":
            if d["spec"].get("replicas", 1) < 2:
                errs.append(f"{where}: needs >= 2 replicas")
            if d["spec"].get("strategy", {}).get("type") != "RollingUpdate":
                errs.append(f"{where}: strategy must be RollingUpdate")
            if env_all.get("PEDIGREE_LEADERSHIP", {}).get("value") != "lease":
                errs.append(f"{where}: PEDIGREE_LEADERSHIP must be lease")
            for name, field in (("PEDIGREE_LEASE_NAMESPACE", "metadata.namespace"),
                                ("PEDIGREE_HOLDER_ID", "metadata.name")):
                if env_all.get(name, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != field:
                    errs.append(f"{where}: {name} must come from {field}")
            lease = env_all.get("PEDIGREE_LEASE_NAME", {}).get("value")
            roles = [r for r in by_kind.get("Role", []) if r["metadata"]["name"] == d["metadata"]["name"]]
            if not roles:
                errs.append(f"{where}: no Role")
            for r in roles:
                for rule in r["rules"]:
                    if rule.get("resources") != ["leases"] or rule.get("apiGroups") != ["coordination.k8s.io"]:
                        errs.append(f"Role {r['metadata']['name']}: grants more than coordination.k8s.io/leases")
                    extra = set(rule["verbs"]) - {"get", "create", "update", "patch", "watch", "list"}
                    if extra:
                        errs.append(f"Role {r['metadata']['name']}: verbs beyond the contract: {sorted(extra)}")
                    # create is the one verb resourceNames cannot restrict.
                    if rule["verbs"] != ["create"] and rule.get("resourceNames") != [lease]:
                        errs.append(f"Role {r['metadata']['name']}: rule not restricted to Lease {lease}")
        if comp in ("custody", "verifier") and not any(
                h["spec"]["scaleTargetRef"]["name"] == d["metadata"]["name"]
                for h in by_kind.get("HorizontalPodAutoscaler", [])) and "replicas" not in d["spec"]:
            errs.append(f"{where}: neither an HPA nor replicas")
    nps = {n["metadata"]["name"] for n in by_kind.get("NetworkPolicy", [])}
    if nps and nps != {d["metadata"]["name"] for d in deps.values()}:
        errs.append(f"NetworkPolicies {sorted(nps)} do not match the Deployments")
    for n in by_kind.get("NetworkPolicy", []):
        if sorted(n["spec"].get("policyTypes", [])) != ["Egress", "Ingress"]:
            errs.append(f"NetworkPolicy {n['metadata']['name']}: must restrict Ingress and Egress")
        for rule in n["spec"].get("ingress", []) + n["spec"].get("egress", []):
            if not rule.get("ports"):
                errs.append(f"NetworkPolicy {n['metadata']['name']}: a rule without ports")
    pdbs = {p["metadata"]["name"] for p in by_kind.get("PodDisruptionBudget", [])}
    if pdbs and pdbs != {d["metadata"]["name"] for d in deps.values()}:
        errs.append(f"PodDisruptionBudgets {sorted(pdbs)} do not match the Deployments")
    for o in objs:
        labels = o["metadata"].get("labels", {})
        for l in ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
                  "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"):
            if l not in labels:
                errs.append(f"{o['kind']} {o['metadata']['name']}: no label {l}")
    for e in errs:
        print("  " + e, file=sys.stderr)
    return 1 if errs else 0


# PromQL words that are not metric names.
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                "offset", "inf", "nan"}


def promql_metrics(expr):
    """The metric names an expression selects: identifiers outside label
    matchers, ranges and strings, that are neither functions, keywords nor
    the label lists of by/without/on/ignoring/group_*."""
    e = re.sub(r'"(\\.|[^"\\])*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word = m.group(0)
        if word.lower() in PROMQL_WORDS or re.match(r"\s*\(", e[m.end():]):
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] in ".$"):
            continue  # 1e3, 5m, $var
        names.add(word)
    return names


def known_metrics(path):
    """What a PromQL expression may select, from docs/metrics.txt (`name
    type` lines): the names, a histogram's _bucket/_sum/_count, and `up`."""
    known = {"up"}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, kind = line.split()
        known.add(name)
        if kind == "histogram":
            known.update(name + s for s in ("_bucket", "_sum", "_count"))
    return known


def monitoring(rendered, metrics_txt, rules_out):
    """The PrometheusRule's groups to rules_out (for promtool); the Grafana
    dashboard parses as JSON; every PromQL expression in both selects only
    metrics the services export (docs/metrics.txt)."""
    known = known_metrics(metrics_txt)
    objs = docs(rendered)
    errs = []
    exprs = []
    rules = [o for o in objs if o.get("kind") == "PrometheusRule"]
    if len(rules) != 1:
        errs.append(f"expected one PrometheusRule, got {len(rules)}")
    for r in rules:
        with open(rules_out, "w") as f:
            yaml.safe_dump({"groups": r["spec"]["groups"]}, f, sort_keys=False)
        for g in r["spec"]["groups"]:
            exprs += [(f"alert {rule.get('alert')}", rule["expr"]) for rule in g["rules"]]
    dashboards = [o for o in objs if o.get("kind") == "ConfigMap"
                  and o["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    if len(dashboards) != 1:
        errs.append(f"expected one ConfigMap labelled grafana_dashboard: \"1\", got {len(dashboards)}")
    for cm in dashboards:
        for key, text in cm.get("data", {}).items():
            try:
                dash = json.loads(text)
            except ValueError as e:
                errs.append(f"dashboard {key}: not JSON: {e}")
                continue
            if not dash.get("title") or not dash.get("uid"):
                errs.append(f"dashboard {key}: no title or uid")
            panels = list(dash.get("panels", []))
            for p in list(panels):
                panels += p.get("panels", [])
            for p in panels:
                for t in p.get("targets", []):
                    exprs.append((f"dashboard panel {p.get('title')!r}", t.get("expr", "")))
            for v in dash.get("templating", {}).get("list", []):
                q = v.get("query")
                if isinstance(q, dict):
                    q = q.get("query", "")
                if v.get("type") == "query":
                    exprs.append((f"dashboard variable {v.get('name')}", re.sub(r"^label_values\((.*),[^,]*\)$", r"\1", q)))
    if not exprs:
        errs.append("no PromQL expression found")
    for where, expr in exprs:
        if not expr.strip():
            errs.append(f"{where}: empty expression")
        for name in sorted(promql_metrics(expr) - known):
            errs.append(f"{where}: {name} is not a metric the services export (docs/metrics.txt)")
    for e in errs:
        print("  " + e, file=sys.stderr)
    if not errs:
        print(f"  ok: {len(exprs)} PromQL expressions select only exported metrics")
    return 1 if errs else 0


def values_docs(values_path, schema_path):
    """Every key of values.yaml that the schema declares (a chart setting,
    not a free-form Kubernetes object) must have a comment line above it."""
    schema = json.load(open(schema_path))
    defs = schema.get("definitions", {})

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            node = defs[node["$ref"].split("/")[-1]]
        return node

    errs = []
    stack = []  # (indent, schema node or None)
    prev = ""
    for lineno, line in enumerate(open(values_path), 1):
        m = re.match(r"^( *)([A-Za-z0-9_.-]+):", line)
        if m and not line.lstrip().startswith("#"):
            indent = len(m.group(1))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parent = schema if not stack else stack[-1][1]
            node = None
            # Descend only into chart-defined objects (additionalProperties
            # false); pass-through Kubernetes objects (securityContext,
            # affinity, ...) are documented as a whole.
            if parent is not None and "properties" in parent and parent.get("additionalProperties") is False:
                node = resolve(parent["properties"].get(m.group(2)))
                if node is None and parent is schema:
                    errs.append(f"values.yaml:{lineno}: {m.group(2)} is not in values.schema.json")
                if node is not None and not prev.lstrip().startswith("#"):
                    path = ".".join([s[2] for s in stack] + [m.group(2)])
                    errs.append(f"values.yaml:{lineno}: {path} has no comment above it")
            stack.append((indent, node, m.group(2)))
        elif line.strip() and not line.lstrip().startswith("#"):
            # A list item or continuation: keys below it are free-form.
            indent = len(line) - len(line.lstrip())
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, None, "-"))
        if line.strip():
            prev = line
    for e in errs:
        print("  " + e, file=sys.stderr)
    return 1 if errs else 0


def dockerfile_check(dockerfile_path, *rendered):
    """Dockerfile: parses (Docker's parser), expected bases and build, and it
    provides every binary the chart runs."""
    import dockerfile

    errs = []
    try:
        cmds = dockerfile.parse_file(dockerfile_path)
    except dockerfile.GoParseError as e:
        print(f"  Dockerfile does not parse: {e}", file=sys.stderr)
        return 1
    froms = [c.value for c in cmds if c.cmd == "FROM"]
    if len(froms) < 2 or froms[0][0] != "rust:1.95-bookworm":
        errs.append(f"builder stage must be FROM rust:1.95-bookworm, got {froms[:1]}")
    if not froms or froms[-1][0] != "gcr.io/distroless/cc-debian12:nonroot":
        errs.append(f"runtime stage must be FROM gcr.io/distroless/cc-debian12:nonroot, got {froms[-1:]}")
    runs = [" ".join(c.value) for c in cmds if c.cmd == "RUN"]
    build = [r for r in runs if "cargo build" in r]
    if not build:
        errs.append("no cargo build")
    else:
        b = build[0]
        for want in ("--release", "--locked", "-p pedigree-custody", "-p pedigree-sequencer",
                     "-p pedigree-verifier", "-p pedigree-cli"):
            if want not in b:
                errs.append(f"cargo build lacks {want}")
    build_flags = [f for c in cmds if c.cmd == "RUN" and "cargo build" in " ".join(c.value) for f in c.flags]
    if not any("type=cache" in f and "registry" in f for f in build_flags):
        errs.append("cargo build has no cache mount for the cargo registry")
    if not any("type=cache" in f and "target" in f.split("target=")[-1] for f in build_flags):
        errs.append("cargo build has no cache mount for target/")
    # Everything after the last FROM is the runtime stage.
    last_from = max(i for i, c in enumerate(cmds) if c.cmd == "FROM")
    runtime = cmds[last_from:]
    copied = {c.value[-1] for c in runtime if c.cmd == "COPY"}
    users = [c.value[0] for c in runtime if c.cmd == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        errs.append("runtime stage must set a non-root USER")
    wanted = {"/usr/local/bin/pedigree"}
    for path in rendered:
        for o in docs(path):
            if o.get("kind") == "Deployment":
                for c in o["spec"]["template"]["spec"]["containers"]:
                    wanted.add((c.get("command") or [""])[0])
    for w in sorted(wanted):
        if w not in copied:
            errs.append(f"the chart runs {w} but the image does not COPY it")
    for e in errs:
        print("  Dockerfile: " + e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    fn = {"split": split, "policy": policy, "values-docs": values_docs, "monitoring": monitoring,
          "dockerfile": dockerfile_check}[sys.argv[1]]
    sys.exit(fn(*sys.argv[2:]))
PY
check() { "$PY" "$WORK/k8scheck.py" "$@"; }

# validate NAME FILE: kubernetes-validate for core kinds, our check for CRDs.
validate() {
    local name="$1" file="$2" n out version
    if ! check split "$file" "$WORK/$name.core.yaml"; then
        fail "$name: CRD objects do not validate"
    fi
    n="$(cat "$WORK/$name.core.yaml.count")"
    for version in "$KUBE_VERSION" "$KUBE_VERSION_OLDEST"; do
        # Piped, as a deployment pipeline would: helm template | validate.
        out="$("$KV" --strict -k "$version" - <"$WORK/$name.core.yaml" 2>&1)" || true
        if grep -qE '^(ERROR|WARN|FATAL)' <<<"$out" \
            || [[ "$(grep -c '^INFO .* passed' <<<"$out")" != "$n" ]]; then
            grep -vE '^INFO' <<<"$out" | sed 's/^/  /' >&2
            fail "$name: kubernetes-validate --strict against $version"
        else
            echo "  ok: $n objects valid against Kubernetes $version (strict)"
        fi
    done
}

# ---------------------------------------------------------------------------
step "helm lint --strict"
for args in "" "-f $TEST_VALUES"; do
    # shellcheck disable=SC2086 # $args is a flag and its file
    if out="$("$HELM" lint --strict --kube-version "$KUBE_VERSION" "$CHART" $args 2>&1)"; then
        echo "  ok: helm lint --strict $CHART $args"
    else
        printf '  %s\n' "${out//$'\n'/$'\n'  }" >&2
        fail "helm lint --strict $CHART $args"
    fi
done

# ---------------------------------------------------------------------------
step "helm template + kubernetes-validate"
declare -A VARIANTS=(
    [default]=""
    [test-values]="-f $TEST_VALUES"
    [existing-genesis]="--set genesis.existingConfigMap=pedigree-genesis-v7"
)
for name in default test-values existing-genesis; do
    # shellcheck disable=SC2086 # flags
    if render "$WORK/$name.yaml" ${VARIANTS[$name]}; then
        validate "$name" "$WORK/$name.yaml"
        if check policy "$WORK/$name.yaml"; then
            echo "  ok: $name meets the platform policy"
        else
            fail "$name: platform policy"
        fi
    else
        sed 's/^/  /' "$WORK/$name.yaml.err" >&2
        fail "helm template ($name)"
    fi
done
# ---------------------------------------------------------------------------
step "monitoring: alerts (promtool) and the Grafana dashboard"
if [[ -f "$WORK/test-values.yaml" ]]; then
    mkdir -p "$WORK/rules"
    if check monitoring "$WORK/test-values.yaml" docs/metrics.txt "$WORK/rules/rules.yaml"; then
        echo "  ok: the dashboard parses; alerts and panels use only exported metrics (docs/metrics.txt)"
    else
        fail "monitoring: the PrometheusRule or the dashboard"
    fi
    if out="$("$PROMTOOL" check rules "$WORK/rules/rules.yaml" 2>&1)"; then
        echo "  ok: promtool check rules ($(grep -o '[0-9]* rules found' <<<"$out"))"
    else
        printf '  %s\n' "${out//$'\n'/$'\n'  }" >&2
        fail "promtool check rules"
    fi
    cp helm/alerts-test.yaml "$WORK/rules/alerts-test.yaml"
    if out="$(cd "$WORK/rules" && "$PROMTOOL" test rules alerts-test.yaml 2>&1)"; then
        echo "  ok: promtool test rules helm/alerts-test.yaml"
    else
        printf '  %s\n' "${out//$'\n'/$'\n'  }" >&2
        fail "promtool test rules helm/alerts-test.yaml"
    fi
fi

# Spot checks that the variants render what they claim.
if [[ -f "$WORK/existing-genesis.yaml" ]] && ! grep -q 'name: pedigree-genesis-v7' "$WORK/existing-genesis.yaml"; then
    fail "existing-genesis: the pods do not mount genesis.existingConfigMap"
fi
if [[ -f "$WORK/test-values.yaml" ]]; then
    [[ "$(grep -c '^kind: ServiceMonitor' "$WORK/test-values.yaml")" == 3 ]] \
        || fail "test-values: expected a ServiceMonitor per component"
    for want in 'kind: ServiceMonitor' 'kind: PrometheusRule' 'grafana_dashboard: "1"' 'kind: Certificate' 'secretName: pedigree-tls' 'PEDIGREE_SESSION_KEY_FILE' \
        'secretName: pedigree-session-key' 'secretName: pedigree-sequencer-signing' \
        'name: pedigree-redis' 'checksum/genesis:' 'genesis.json: |-' 'cidr: 10.0.0.1/32'; do
        grep -qF "$want" "$WORK/test-values.yaml" || fail "test-values: render lacks '$want'"
    done
    grep -q 'PEDIGREE_REDIS_URL: ' "$WORK/test-values.yaml" \
        && fail "test-values: redis.existingSecret set but the URL is still in the ConfigMap"
    # Redis TLS and ACL users, Kafka TLS and SASL: every component gets its own credentials.
    for want in 'name: pedigree-redis-custody' 'name: pedigree-redis-sequencer' 'name: pedigree-redis-verifier' \
        'secretName: redis-ca' 'secretName: pedigree-redis-sequencer-tls' 'value: /etc/pedigree-tls/redis-ca/ca.crt' \
        'name: pedigree-kafka-custody' 'name: pedigree-kafka-sequencer' 'secretName: kafka-ca' \
        'secretName: pedigree-kafka-sequencer-tls' 'PEDIGREE_KAFKA_SECURITY_PROTOCOL: "sasl_ssl"' \
        'PEDIGREE_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512"' \
        'PEDIGREE_KAFKA_PROPERTIES: "ssl.endpoint.identification.algorithm=https"'; do
        grep -qF "$want" "$WORK/test-values.yaml" || fail "test-values: render lacks '$want'"
    done
fi
if [[ -f "$WORK/default.yaml" ]]; then
    grep -qF 'PEDIGREE_REDIS_URL: "rediss://' "$WORK/default.yaml" || fail "default: the Redis URL is not TLS"
    grep -q 'PEDIGREE_REDIS_INSECURE_PLAINTEXT' "$WORK/default.yaml" && fail "default: plaintext Redis accepted"
fi

# ---------------------------------------------------------------------------
step "values the chart must reject"
reject() { # reject WHAT EXPECTED-ERROR-REGEX [helm template args...]
    local what="$1" want="$2"
    shift 2
    if "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "$@" >/dev/null 2>"$WORK/reject.err"; then
        fail "accepted $what"
    elif ! grep -qE "$want" "$WORK/reject.err"; then
        sed 's/^/  /' "$WORK/reject.err" >&2
        fail "rejected $what, but not with /$want/"
    else
        echo "  ok: rejects $what"
    fi
}
KVER=(--kube-version "$KUBE_VERSION")
reject "an unknown top-level value" "additional properties|additionalProperties|not allowed" \
    "${KVER[@]}" --set replicaCount=3
reject "a typo in a nested value" "additional properties|additionalProperties|not allowed" \
    "${KVER[@]}" --set custody.replica=3
reject "a wrong type" "want integer" "${KVER[@]}" --set-string sequencer.replicas=two
cat >"$WORK/both-genesis.yaml" <<'EOF'
genesis:
  existingConfigMap: pedigree-genesis
  json: '{"chain_id": "c", "sequencer_public_key": "02", "participants": []}'
EOF
reject "both genesis sources" "mutually exclusive" "${KVER[@]}" -f "$WORK/both-genesis.yaml"
reject "cert-manager without an issuer" "issuerRef.name is required" "${KVER[@]}" --set tls.certManager.enabled=true
reject "genesis.json that is not JSON" "not a JSON object" "${KVER[@]}" --set-string 'genesis.json=nope'
cat >"$WORK/bad-genesis.yaml" <<'EOF'
genesis:
  json: '{"chain_id": "c", "sequencer_public_key": "02"}'
EOF
reject "genesis.json without participants" 'no "participants" field' "${KVER[@]}" -f "$WORK/bad-genesis.yaml"
reject "a grace period not above the shutdown grace" "must exceed" "${KVER[@]}" \
    --set terminationGracePeriodSeconds=20
reject "preStop sleep eating the grace period" "must exceed" "${KVER[@]}" --set preStopSleepSeconds=10
reject "HPA min above max" "must not exceed" "${KVER[@]}" --set custody.autoscaling.minReplicas=9
reject "a NetworkPolicy peer typo" "additional properties|additionalProperties|not allowed" \
    "${KVER[@]}" --set 'networkPolicy.kafka.peers[0].ipblock.cidr=10.0.0.0/8'
reject "a weakened security context" "value must be" "${KVER[@]}" \
    --set securityContext.readOnlyRootFilesystem=false
reject "Kubernetes 1.24" "kubeVersion|compatible" --kube-version 1.24.0
reject "a plaintext Redis URL without redis.insecurePlaintext" "is plaintext" "${KVER[@]}" \
    --set redis.url=redis://redis:6379/0
reject "a SASL protocol without a mechanism" "needs kafka.security.saslMechanism" "${KVER[@]}" \
    --set kafka.security.protocol=sasl_ssl
reject "a Kafka property other than ssl.*/sasl.*" "does not match|not an ssl" "${KVER[@]}" \
    --set kafka.security.properties.acks=0

# ---------------------------------------------------------------------------
step "determinism"
for name in default test-values; do
    # shellcheck disable=SC2086 # flags
    if render "$WORK/$name.again.yaml" ${VARIANTS[$name]} \
        && cmp -s "$WORK/$name.yaml" "$WORK/$name.again.yaml"; then
        echo "  ok: $name renders byte-identically twice"
    else
        fail "$name: two renders differ (randomness or time in a template?)"
    fi
done
if grep -rnE '\{\{[^}]*\b(rand[A-Za-z]*|now|uuidv4|genPrivateKey|genCA|genSelfSignedCert|lookup)\b' \
    "$CHART/templates" >"$WORK/nondet.txt"; then
    sed 's/^/  /' "$WORK/nondet.txt" >&2
    fail "templates use a non-deterministic function"
else
    echo "  ok: no rand*/now/uuidv4/gen*/lookup in the templates"
fi

# ---------------------------------------------------------------------------
step "values.yaml documentation"
if check values-docs "$CHART/values.yaml" "$CHART/values.schema.json"; then
    echo "  ok: every chart value in values.yaml has a comment"
else
    fail "values.yaml: undocumented values"
fi

# ---------------------------------------------------------------------------
step "Dockerfile lint"
if check dockerfile Dockerfile "$WORK/default.yaml" "$WORK/test-values.yaml"; then
    echo "  ok: Dockerfile parses, builds the four packages, ships every binary the chart runs"
else
    fail "Dockerfile"
fi
for want in 'target/' '.git' 'results/'; do
    grep -qxF "$want" .dockerignore || fail ".dockerignore does not exclude $want"
done

# ---------------------------------------------------------------------------
HEADER="# Rendered from helm/pedigree with its default values (release \"$RELEASE\",
# namespace \"$NAMESPACE\"). Do not edit: change the chart, then run
# scripts/check-k8s.sh --update. CI fails when this file and the chart differ."
{
    echo "$HEADER"
    cat "$WORK/default.yaml"
} >"$WORK/pedigree.yaml"
if [[ $UPDATE == 1 ]]; then
    step "update $RENDERED"
    if [[ -s "$WORK/default.yaml" ]]; then
        mkdir -p "$(dirname "$RENDERED")"
        cp "$WORK/pedigree.yaml" "$RENDERED"
        echo "  wrote $RENDERED"
    else
        fail "default render is empty; $RENDERED not written"
    fi
else
    step "drift: $RENDERED vs the chart"
    if [[ ! -f "$RENDERED" ]]; then
        fail "$RENDERED is missing: run scripts/check-k8s.sh --update"
    elif diff -u "$RENDERED" "$WORK/pedigree.yaml" >"$WORK/drift.diff"; then
        echo "  ok: $RENDERED is up to date"
    else
        cat "$WORK/drift.diff" >&2
        fail "$RENDERED differs from the chart (diff above): run scripts/check-k8s.sh --update and commit it"
    fi
fi

# ---------------------------------------------------------------------------
if ((${#FAILURES[@]})); then
    echo >&2
    echo "check-k8s: FAILED (${#FAILURES[@]}):" >&2
    printf '  - %s\n' "${FAILURES[@]}" >&2
    exit 1
fi
echo "check-k8s: all checks passed"
