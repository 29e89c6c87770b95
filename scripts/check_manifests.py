#!/usr/bin/env python3
"""Checks on the rendered Kubernetes overlays and on compose.yaml that a schema
cannot make: the restricted Pod Security Standard on every pod template,
settings and resources that must agree, the KEDA and Prometheus Operator
objects (their CRDs are not in kubernetes-validate's schemas), selectors and
references. Run by scripts/lint-deploy.

    check_manifests.py k8s RENDERED.yaml OUT.yaml   # writes the built-in kinds to OUT
    check_manifests.py compose compose.yaml
"""

import json
import re
import sys

import yaml

IMAGE_UID = 10001  # `useradd --uid 10001` in Dockerfile.web and Dockerfile.worker
CRD_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
}
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io"}
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# Volume types the restricted profile allows.
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
    "persistentVolumeClaim", "projected", "secret",
}
# The secrets each component may read: the worker and the migration get no API
# keys and no cookie secret.
ALLOWED_SECRETS = {
    "scribe-web": {"scribe-web", "scribe-storage"},
    "scribe-worker": {"scribe-worker", "scribe-storage"},
    "scribe-migrate": {"scribe-migrate"},
    "scribe-minio": {"scribe-storage"},
    "scribe-minio-bucket": {"scribe-storage"},
}
SCALEDOBJECT_SPEC_KEYS = {
    "scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod",
    "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "fallback",
    "advanced", "triggers",
}
RABBITMQ_METADATA_KEYS = {
    "host", "hostFromEnv", "protocol", "queueName", "mode", "value",
    "activationValue", "vhostName", "useRegex", "excludeUnacknowledged",
    "pageSize", "operation", "timeout", "unsafeSsl",
}
LABEL_VALUE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")


class Report:
    def __init__(self, name):
        self.name = name
        self.errors = []

    def check(self, ok, message):
        if not ok:
            self.errors.append(message)
        return ok

    def finish(self, what):
        for e in self.errors:
            print(f"error: {self.name}: {e}", file=sys.stderr)
        if self.errors:
            return 1
        print(f"ok: {self.name}: {what}", file=sys.stderr)
        return 0


def memory_mib(quantity):
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024,
             "k": 1000 / 1024 / 1024, "M": 1000 * 1000 / 1024 / 1024, "G": 1000**3 / 1024 / 1024}
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i|[kMG])?", str(quantity))
    if not m:
        raise ValueError(f"memory quantity {quantity!r}")
    return float(m.group(1)) * (units[m.group(2)] if m.group(2) else 1 / 1024 / 1024)


def pod_spec(obj):
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def pod_labels(obj):
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"].get("labels", {})
    return obj["spec"]["template"].get("metadata", {}).get("labels", {})


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def check_restricted(r, where, spec):
    """The `restricted` Pod Security Standard (Kubernetes docs, Pod Security
    Standards), plus this project's rules: read-only root, the images' uid,
    sized scratch volumes, memory limits."""
    psc = spec.get("securityContext", {})
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        r.check(not spec.get(host), f"{where}: {host} is set")
    for v in spec.get("volumes", []):
        kinds = set(v) - {"name"}
        r.check(kinds <= RESTRICTED_VOLUMES, f"{where}: volume {v['name']} is {kinds}")
        if "emptyDir" in v:
            r.check("sizeLimit" in (v["emptyDir"] or {}), f"{where}: emptyDir {v['name']} has no sizeLimit")
    r.check(spec.get("automountServiceAccountToken") is False,
            f"{where}: automountServiceAccountToken is not false")
    containers = spec.get("initContainers", []) + spec.get("containers", [])
    for c in containers:
        cw = f"{where}/{c['name']}"
        sc = c.get("securityContext", {})
        non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        r.check(non_root is True, f"{cw}: runAsNonRoot is not true")
        uid = sc.get("runAsUser", psc.get("runAsUser"))
        r.check(uid == IMAGE_UID, f"{cw}: runAsUser is {uid}, not the images' {IMAGE_UID}")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        r.check(seccomp in ("RuntimeDefault", "Localhost"), f"{cw}: seccompProfile is {seccomp}")
        r.check(sc.get("allowPrivilegeEscalation") is False, f"{cw}: allowPrivilegeEscalation is not false")
        r.check(not sc.get("privileged"), f"{cw}: privileged")
        caps = sc.get("capabilities", {})
        r.check("ALL" in caps.get("drop", []), f"{cw}: capabilities.drop lacks ALL")
        r.check(set(caps.get("add", [])) <= {"NET_BIND_SERVICE"}, f"{cw}: adds capabilities {caps.get('add')}")
        r.check(sc.get("readOnlyRootFilesystem") is True, f"{cw}: root filesystem is writable")
        for p in c.get("ports", []):
            r.check("hostPort" not in p, f"{cw}: hostPort")
        res = c.get("resources", {})
        r.check("memory" in res.get("limits", {}), f"{cw}: no memory limit")
        r.check({"cpu", "memory"} <= set(res.get("requests", {})), f"{cw}: no cpu/memory requests")
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        r.check("/tmp" in mounts, f"{cw}: no writable /tmp (emptyDir)")
        if c.get("image", "").split("/")[-1].startswith("scribe-"):
            r.check(env_of(c).get("TMPDIR") == "/tmp", f"{cw}: TMPDIR is not /tmp")


def check_k8s(rendered, out):
    r = Report(rendered)
    with open(rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    builtin = [d for d in docs if (d["apiVersion"], d["kind"]) not in CRD_KINDS]
    unknown = {f"{d['apiVersion']} {d['kind']}" for d in docs
               if d["apiVersion"].rpartition("/")[0] not in BUILTIN_GROUPS
               and (d["apiVersion"], d["kind"]) not in CRD_KINDS}
    r.check(not unknown, f"custom kinds this script does not check: {unknown}")
    with open(out, "w") as f:
        yaml.safe_dump_all(builtin, f, sort_keys=False)

    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d

    # Namespace: restricted enforced, everything in it.
    namespaces = by_kind.get("Namespace", {})
    if r.check(len(namespaces) == 1, "expected one Namespace"):
        (ns,) = namespaces.values()
        labels = ns["metadata"].get("labels", {})
        r.check(labels.get("pod-security.kubernetes.io/enforce") == "restricted",
                "the Namespace does not enforce the restricted Pod Security Standard")
        for d in docs:
            if d["kind"] != "Namespace":
                r.check(d["metadata"].get("namespace") == ns["metadata"]["name"],
                        f"{d['kind']}/{d['metadata']['name']} is not in namespace {ns['metadata']['name']}")

    config = by_kind.get("ConfigMap", {}).get("scribe-config", {}).get("data", {})
    r.check(bool(config), "no ConfigMap scribe-config")
    secrets_needed = set()

    workloads = [d for d in docs if d["kind"] in POD_TEMPLATE_KINDS | {"Pod", "CronJob"}]
    for w in workloads:
        where = f"{w['kind']}/{w['metadata']['name']}"
        spec = pod_spec(w)
        check_restricted(r, where, spec)
        app = pod_labels(w).get("app.kubernetes.io/name")
        used = set()
        for c in spec.get("initContainers", []) + spec["containers"]:
            for src in c.get("envFrom", []):
                if "secretRef" in src:
                    used.add(src["secretRef"]["name"])
                if "configMapRef" in src:
                    r.check(src["configMapRef"]["name"] in by_kind.get("ConfigMap", {}),
                            f"{where}: ConfigMap {src['configMapRef']['name']} is not rendered")
            for e in c.get("env", []):
                ref = e.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    used.add(ref["secretKeyRef"]["name"])
                if "configMapKeyRef" in ref:
                    cm = by_kind.get("ConfigMap", {}).get(ref["configMapKeyRef"]["name"], {})
                    r.check(ref["configMapKeyRef"]["key"] in cm.get("data", {}),
                            f"{where}: ConfigMap key {ref['configMapKeyRef']['key']} is not rendered")
        if r.check(app in ALLOWED_SECRETS, f"{where}: unknown component {app}"):
            r.check(used <= ALLOWED_SECRETS[app], f"{where}: reads Secrets {sorted(used - ALLOWED_SECRETS[app])}")
        secrets_needed |= used
        for v in spec.get("volumes", []):
            if "persistentVolumeClaim" in v:
                claim = v["persistentVolumeClaim"]["claimName"]
                r.check(claim in by_kind.get("PersistentVolumeClaim", {}), f"{where}: claim {claim} is not rendered")

    # Selectors that must find pods.
    templates = [pod_labels(w) for w in workloads]

    def selects(selector):
        return any(all(t.get(k) == v for k, v in selector.items()) for t in templates)

    for kind in ("Service", "PodDisruptionBudget"):
        for name, d in by_kind.get(kind, {}).items():
            sel = d["spec"]["selector"] if kind == "Service" else d["spec"]["selector"]["matchLabels"]
            r.check(selects(sel), f"{kind}/{name}: selector {sel} matches no pod template")
    for name in ("scribe-web", "scribe-worker"):
        r.check(name in by_kind.get("PodDisruptionBudget", {}), f"no PodDisruptionBudget for {name}")

    # The web: spread, probes.
    web = by_kind.get("Deployment", {}).get("scribe-web")
    if r.check(web is not None, "no Deployment scribe-web"):
        spec = pod_spec(web)
        keys = {t["topologyKey"] for t in spec.get("topologySpreadConstraints", [])}
        r.check("kubernetes.io/hostname" in keys, "scribe-web has no topology spread over nodes")
        (c,) = spec["containers"]
        r.check(c.get("readinessProbe", {}).get("httpGet", {}).get("path") == "/readyz", "web readiness is not /readyz")
        check_metrics_port(r, "web", c, "SCRIBE__WEB__METRICS_ADDR")
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        r.check(ports.get("metrics") != ports.get("http"), "the web's /metrics is on its public port")

    # The worker: memory for its renderers, grace for its drain, probes, scaling.
    worker = by_kind.get("Deployment", {}).get("scribe-worker")
    if r.check(worker is not None, "no Deployment scribe-worker"):
        spec = pod_spec(worker)
        (c,) = spec["containers"]
        env = env_of(c)
        slots = int(env.get("SCRIBE__WORKER__SLOTS") or 0)
        r.check(slots > 0, "the worker's slots are not set (SCRIBE__WORKER__SLOTS)")
        render_mb = int(config.get("SCRIBE__LIMITS__RENDER_MEMORY_MB", 2048))
        limit = memory_mib(c["resources"]["limits"]["memory"])
        need = slots * render_mb + 512
        r.check(limit >= need, f"worker memory limit {limit:.0f}Mi < {slots} slots x {render_mb} MiB + 512Mi")
        drain = int(config.get("SCRIBE__WORKER__DRAIN_TIMEOUT_SECS", 30))
        grace = spec.get("terminationGracePeriodSeconds", 30)
        r.check(grace >= drain + 15, f"worker grace {grace}s leaves under 15 s after the {drain}s drain")
        check_metrics_port(r, "worker", c, "SCRIBE__WORKER__METRICS_ADDR")
        # Readiness is "consuming"; liveness is "not stuck": different questions.
        for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/livez"), ("startupProbe", "/livez")):
            get = c.get(probe, {}).get("httpGet", {})
            r.check(get.get("path") == path and get.get("port") == "metrics", f"worker {probe} is not {path} on metrics")
        scalers = [("ScaledObject", d["spec"]["scaleTargetRef"]) for d in by_kind.get("ScaledObject", {}).values()]
        scalers += [("HorizontalPodAutoscaler", d["spec"]["scaleTargetRef"]) for d in by_kind.get("HorizontalPodAutoscaler", {}).values()]
        owners = [k for k, ref in scalers if ref.get("name") == "scribe-worker"]
        r.check(len(owners) <= 1, f"several autoscalers own scribe-worker: {owners}")
        if owners:
            r.check("replicas" not in worker["spec"], f"scribe-worker sets replicas although {owners[0]} owns them")
        for hpa in by_kind.get("HorizontalPodAutoscaler", {}).values():
            for m in hpa["spec"].get("metrics", []):
                if m["type"] == "External":
                    target = m["external"]["target"]
                    r.check(str(target.get("averageValue")) == str(slots), "HPA messages per worker != the worker's slots")

    # The migration: a release-specific name that can be applied again.
    prefix = config.get("SCRIBE__BROKER__PREFIX", "scribe")
    migrations = [d for d in by_kind.get("Job", {}).values()
                  if pod_labels(d).get("app.kubernetes.io/name") == "scribe-migrate"]
    if r.check(len(migrations) == 1, "expected one migration Job"):
        (job,) = migrations
        name = job["metadata"]["name"]
        image = pod_spec(job)["containers"][0]["image"]
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else "latest"
        r.check(name == f"scribe-migrate-{tag}", f"migration Job {name} is not named after the image tag {tag}")
        r.check(LABEL_VALUE.match(name) is not None, f"migration Job name {name} is not a valid label value")
        r.check("ttlSecondsAfterFinished" in job["spec"], "the migration Job has no ttlSecondsAfterFinished")
        r.check(pod_spec(job)["containers"][0].get("args") == ["migrate"], "the migration Job does not run `migrate`")
        if web is not None:
            r.check(image == pod_spec(web)["containers"][0]["image"], "the migration and the web run different images")

    # NetworkPolicies: deny by default; only the web takes traffic from anywhere, on 8080.
    policies = by_kind.get("NetworkPolicy", {})
    r.check(any(p["spec"]["podSelector"] == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
                and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies.values()),
            "no default-deny NetworkPolicy")
    for name, p in policies.items():
        for rule in p["spec"].get("ingress", []):
            if not rule.get("from"):
                r.check(p["spec"]["podSelector"].get("matchLabels") == {"app.kubernetes.io/name": "scribe-web"},
                        f"NetworkPolicy/{name} opens ingress from anywhere to non-web pods")
                r.check([x["port"] for x in rule.get("ports", [])] == [8080], f"NetworkPolicy/{name}: open ingress beyond 8080")
    worker_policy = policies.get("scribe-worker")
    if r.check(worker_policy is not None, "no NetworkPolicy for the workers"):
        ports = {x["port"] for rule in worker_policy["spec"].get("egress", []) for x in rule.get("ports", [])}
        r.check(ports <= {5432, 5672, 443, 9000}, f"workers may reach ports {sorted(ports)}")

    # KEDA (no CRD schema at hand: required fields and known keys).
    auths = by_kind.get("TriggerAuthentication", {})
    for name, a in auths.items():
        refs = a.get("spec", {}).get("secretTargetRef", [])
        r.check(bool(refs), f"TriggerAuthentication/{name}: no secretTargetRef")
        for ref in refs:
            r.check({"parameter", "name", "key"} <= set(ref), f"TriggerAuthentication/{name}: secretTargetRef needs parameter, name, key")
            r.check(ref.get("name") in ALLOWED_SECRETS["scribe-worker"], f"TriggerAuthentication/{name}: reads Secret {ref.get('name')}")
            secrets_needed.add(ref.get("name"))
    for name, so in by_kind.get("ScaledObject", {}).items():
        spec = so.get("spec", {})
        r.check(set(spec) <= SCALEDOBJECT_SPEC_KEYS, f"ScaledObject/{name}: unknown keys {sorted(set(spec) - SCALEDOBJECT_SPEC_KEYS)}")
        target = spec.get("scaleTargetRef", {})
        r.check(target.get("name") in by_kind.get("Deployment", {}), f"ScaledObject/{name}: target {target.get('name')} is not rendered")
        lo, hi = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
        r.check(isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi, f"ScaledObject/{name}: replica bounds {lo}..{hi}")
        triggers = spec.get("triggers", [])
        r.check(bool(triggers), f"ScaledObject/{name}: no triggers")
        for t in triggers:
            r.check(isinstance(t.get("type"), str), f"ScaledObject/{name}: trigger without type")
            meta = t.get("metadata", {})
            r.check(all(isinstance(v, str) for v in meta.values()), f"ScaledObject/{name}: trigger metadata values must be strings")
            if t.get("type") != "rabbitmq":
                continue
            r.check(set(meta) <= RABBITMQ_METADATA_KEYS, f"ScaledObject/{name}: unknown rabbitmq keys {sorted(set(meta) - RABBITMQ_METADATA_KEYS)}")
            r.check(meta.get("queueName") == f"{prefix}.ocr", f"ScaledObject/{name}: queue {meta.get('queueName')} is not {prefix}.ocr")
            r.check(meta.get("mode") in ("QueueLength", "MessageRate"), f"ScaledObject/{name}: mode {meta.get('mode')}")
            r.check(meta.get("protocol", "auto") in ("amqp", "http", "auto"), f"ScaledObject/{name}: protocol {meta.get('protocol')}")
            if worker is not None and meta.get("mode") == "QueueLength":
                r.check(meta.get("value") == str(slots), f"ScaledObject/{name}: {meta.get('value')} messages per worker, the worker has {slots} slots")
            auth = t.get("authenticationRef", {}).get("name")
            r.check(auth in auths or "host" in meta or "hostFromEnv" in meta, f"ScaledObject/{name}: no broker host (authenticationRef {auth} is not rendered)")
            if auth in auths:
                params = {ref.get("parameter") for ref in auths[auth]["spec"].get("secretTargetRef", [])}
                r.check("host" in params, f"TriggerAuthentication/{auth} does not provide `host`")

    # Prometheus Operator, and the annotations a Prometheus without it follows.
    for w in workloads:
        ann = w["spec"]["template"]["metadata"].get("annotations", {})
        if ann.get("prometheus.io/scrape") == "true":
            ports = {str(p["containerPort"]) for c in pod_spec(w)["containers"] for p in c.get("ports", [])}
            r.check(ann.get("prometheus.io/port") in ports, f"{w['metadata']['name']}: prometheus.io/port {ann.get('prometheus.io/port')} is no container port")
    for name, pm in by_kind.get("PodMonitor", {}).items():
        sel = pm.get("spec", {}).get("selector", {}).get("matchLabels", {})
        endpoints = pm.get("spec", {}).get("podMetricsEndpoints", [])
        r.check(bool(sel) and bool(endpoints), f"PodMonitor/{name}: needs selector.matchLabels and podMetricsEndpoints")
        pods = [w for w in workloads if all(pod_labels(w).get(k) == v for k, v in sel.items())]
        r.check(bool(pods), f"PodMonitor/{name}: selects no pods")
        port_names = {p.get("name") for w in pods for c in pod_spec(w)["containers"] for p in c.get("ports", [])}
        for e in endpoints:
            r.check(e.get("port") in port_names, f"PodMonitor/{name}: no container port named {e.get('port')}")

    # The Grafana dashboard, when rendered: JSON whose queries name metrics.
    for name, cm in by_kind.get("ConfigMap", {}).items():
        if cm["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
            continue
        for key, text in cm.get("data", {}).items():
            try:
                dashboard = json.loads(text)
            except ValueError as e:
                r.check(False, f"ConfigMap/{name}: {key} is not JSON: {e}")
                continue
            exprs = [t.get("expr", "") for p in dashboard.get("panels", []) for t in p.get("targets", [])]
            r.check(bool(exprs) and all(exprs), f"ConfigMap/{name}: {key} has panels without queries")

    # Ingress: uploads of a gigabyte and unbuffered event streams.
    ingresses = by_kind.get("Ingress", {})
    if ingresses:
        ann = {k: v for i in ingresses.values() for k, v in i["metadata"].get("annotations", {}).items()}
        r.check(ann.get("nginx.ingress.kubernetes.io/proxy-body-size") in ("1g", "1024m", "0"), "Ingress body size is not 1 GiB")
        events = [i for i in ingresses.values()
                  if any("events" in p["path"] for rule in i["spec"]["rules"] for p in rule["http"]["paths"])]
        r.check(any(i["metadata"].get("annotations", {}).get("nginx.ingress.kubernetes.io/proxy-buffering") == "off" for i in events),
                "no Ingress for the event streams with proxy-buffering off")
        paths = {p["path"] for i in ingresses.values() for rule in i["spec"]["rules"] for p in rule["http"]["paths"]}
        r.check(not paths & {"/metrics", "/healthz", "/readyz"}, "the Ingress exposes internal endpoints")

    r.check(not any(d["kind"] == "Secret" for d in docs), "a Secret is rendered: secrets are created by hand (README)")
    what = (f"{len(docs)} objects, {len(workloads)} pod templates restricted-PSS clean; "
            f"needs Secrets {', '.join(sorted(secrets_needed))}")
    return r.finish(what)


def check_compose(path):
    r = Report(path)
    with open(path) as f:
        c = yaml.safe_load(f)
    services = c.get("services", {})
    need = {"postgres", "rabbitmq", "minio", "minio-bucket", "migrate", "web", "worker"}
    r.check(need <= set(services), f"missing services {sorted(need - set(services))}")
    one_shot = {"minio-bucket", "migrate"}
    for name, s in services.items():
        if name not in one_shot:
            r.check("healthcheck" in s, f"service {name} has no healthcheck")
        for v in s.get("volumes", []):
            source = v.split(":")[0] if isinstance(v, str) else v.get("source")
            if source and not source.startswith((".", "/")):
                r.check(source in (c.get("volumes") or {}), f"service {name}: volume {source} is not declared")
    builds = {n: s["build"]["dockerfile"] for n, s in services.items() if "build" in s}
    r.check(builds == {"migrate": "Dockerfile.web", "web": "Dockerfile.web", "worker": "Dockerfile.worker"},
            f"built services {builds}")
    r.check(services.get("migrate", {}).get("command") == ["migrate"], "migrate does not run `scribe-web migrate`")
    r.check("rabbitmq:" in services.get("rabbitmq", {}).get("image", "") and "management" in services["rabbitmq"]["image"],
            "RabbitMQ without the management plugin")
    r.check(any(str(p).endswith(":8080") for p in services.get("web", {}).get("ports", [])), "the web is not on port 8080")
    r.check(services.get("worker", {}).get("deploy", {}).get("replicas") == 2, "not two workers")
    for name in ("web", "worker"):
        deps = services.get(name, {}).get("depends_on", {})
        r.check(deps.get("migrate", {}).get("condition") == "service_completed_successfully", f"{name} does not wait for the migration")
        r.check(deps.get("minio-bucket", {}).get("condition") == "service_completed_successfully", f"{name} does not wait for the bucket")
    return r.finish(f"{len(services)} services")


def check_metrics_port(r, who, c, variable):
    """The listener for /metrics (and the worker's probes) on all interfaces, on a named port."""
    addr = env_of(c).get(variable, "")
    r.check(addr.startswith("0.0.0.0:"), f"the {who}'s metrics listener ({variable}) is not on 0.0.0.0")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    r.check(str(ports.get("metrics")) == addr.rpartition(":")[2], f"the {who}'s port `metrics` is not {variable}'s")


def main(argv):
    if len(argv) == 4 and argv[1] == "k8s":
        return check_k8s(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "compose":
        return check_compose(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
