#!/usr/bin/env python3
"""Structural checks of deploy/ that no schema catches (needs PyYAML; Python 3.11+).

* Kubernetes: each document has apiVersion/kind/metadata.name and the fields
  its kind needs; selectors match the pod labels; probes, Service targetPort
  and volume mounts name things that exist; every Secret/ConfigMap key the
  Deployment uses is in secret.example.yaml / configmap.yaml; the HPA and PDB
  point at the Deployment; kustomization.yaml lists files that exist.
* Configuration: every HANDOFF_GATE__* variable (Dockerfile, compose, systemd
  env example, Kubernetes env) and every key of the example TOML files
  (systemd/handoff-gate.toml, the ConfigMap's handoff-gate.toml) is a key the
  gateway declares (`handoff-gate config keys --json`, from $HANDOFF_GATE_BIN
  or `cargo run`); top-level keys sit before the first [section].
* Compose: depends_on names services; ports and healthchecks are well formed.

Usage: python3 deploy/check_manifests.py   (exit 1 on any problem)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent

# kind -> accepted apiVersions
API_VERSIONS = {
    "Deployment": {"apps/v1"},
    "Service": {"v1"},
    "ConfigMap": {"v1"},
    "Secret": {"v1"},
    "HorizontalPodAutoscaler": {"autoscaling/v2"},
    "PodDisruptionBudget": {"policy/v1"},
    "Kustomization": {"kustomize.config.k8s.io/v1beta1"},
}

problems: list[str] = []
notes: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


def known_keys() -> set[str]:
    """The keys the gateway declares, as `handoff-gate config keys --json` lists them."""
    binary = os.environ.get("HANDOFF_GATE_BIN")
    command = [binary] if binary else ["cargo", "run", "--quiet", "--"]
    try:
        out = subprocess.run(
            [*command, "config", "keys", "--json"],
            cwd=DEPLOY.parent, capture_output=True, text=True, check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        problem("handoff-gate config keys --json", f"could not list the configuration keys: {e}")
        return set()
    return {key["name"] for key in json.loads(out)}


KEYS = known_keys()


def env_key(var: str) -> str:
    return var.removeprefix("HANDOFF_GATE__").lower().replace("__", ".")


def check_env_var(where: str, var: str) -> None:
    if var.startswith("HANDOFF_GATE__") and env_key(var) not in KEYS:
        problem(where, f"{var} sets `{env_key(var)}`, which is not a configuration key")


def check_toml(where: str, text: str) -> None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        problem(where, f"TOML does not parse: {e}")
        return
    sections = {k.split(".")[0] for k in KEYS if "." in k}
    for name, value in data.items():
        if isinstance(value, dict):
            if name not in sections:
                problem(where, f"[{name}] is not a configuration section")
            for key in value:
                if f"{name}.{key}" not in KEYS:
                    problem(where, f"{name}.{key} is not a configuration key")
        elif name not in KEYS:
            problem(where, f"{name} is not a top-level configuration key")
    # Top-level keys after a [section] header would silently belong to it.
    seen_section = False
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if stripped.startswith("["):
            seen_section = True
        elif seen_section and "=" in stripped:
            key = stripped.split("=", 1)[0].strip()
            if key in KEYS and "." not in key:
                problem(where, f"top-level key `{key}` appears after a [section]")


# ------------------------------------------------------------- Kubernetes ----
def load_docs(path: Path) -> list[dict]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except yaml.YAMLError as e:
        problem(str(path), f"YAML does not parse: {e}")
        return []
    for doc in docs:
        if not isinstance(doc, dict):
            problem(str(path), "a document is not a mapping")
    return [d for d in docs if isinstance(d, dict)]


def need(where: str, obj: dict, dotted: str):
    item = obj
    for part in dotted.split("."):
        if not isinstance(item, dict) or part not in item:
            problem(where, f"missing {dotted}")
            return None
        item = item[part]
    return item


def matches(selector: dict | None, labels: dict | None) -> bool:
    if not selector or not labels:
        return False
    return all(labels.get(k) == v for k, v in selector.items())


def check_kubernetes() -> None:
    kdir = DEPLOY / "kubernetes"
    objects: dict[tuple[str, str], tuple[Path, dict]] = {}
    for path in sorted(kdir.glob("*.yaml")):
        for doc in load_docs(path):
            where = f"kubernetes/{path.name}"
            kind = doc.get("kind")
            api = doc.get("apiVersion")
            if kind not in API_VERSIONS:
                problem(where, f"unexpected kind {kind!r}")
                continue
            if api not in API_VERSIONS[kind]:
                problem(where, f"{kind} has apiVersion {api!r}, expected {sorted(API_VERSIONS[kind])}")
            if kind != "Kustomization":
                name = need(where, doc, "metadata.name")
                objects[(kind, name)] = (path, doc)
            else:
                objects[(kind, path.name)] = (path, doc)

    deployment = next((d for (k, _), (_, d) in objects.items() if k == "Deployment"), None)
    if deployment is None:
        problem("kubernetes", "no Deployment")
        return
    where = "kubernetes/deployment.yaml"
    dep_name = deployment["metadata"]["name"]
    selector = need(where, deployment, "spec.selector.matchLabels")
    pod = need(where, deployment, "spec.template") or {}
    pod_labels = (pod.get("metadata") or {}).get("labels")
    if not matches(selector, pod_labels):
        problem(where, "spec.selector.matchLabels does not match the pod template labels")
    spec = pod.get("spec") or {}
    psc = spec.get("securityContext") or {}
    if psc.get("runAsNonRoot") is not True:
        problem(where, "pod securityContext.runAsNonRoot must be true")
    if psc.get("runAsUser") != 10001:
        problem(where, "pod securityContext.runAsUser should be 10001 (the image's user)")
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    containers = spec.get("containers") or []
    if not containers:
        problem(where, "no containers")

    secret = objects.get(("Secret", "handoff-gate"), (None, {}))[1]
    secret_keys = set((secret.get("stringData") or {}) | (secret.get("data") or {}))
    configmaps = {n: d for (k, n), (_, d) in objects.items() if k == "ConfigMap"}

    for c in containers:
        cwhere = f"{where} container {c.get('name')}"
        for field in ("name", "image"):
            if not c.get(field):
                problem(cwhere, f"missing {field}")
        port_names = {p.get("name") for p in c.get("ports") or []}
        port_numbers = {p.get("containerPort") for p in c.get("ports") or []}
        if 8080 not in port_numbers:
            problem(cwhere, "containerPort 8080 (server.listen) is not declared")
        expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
        for probe, path in expected.items():
            get = (c.get(probe) or {}).get("httpGet")
            if not get:
                problem(cwhere, f"missing {probe}.httpGet")
                continue
            if get.get("path") != path:
                problem(cwhere, f"{probe} should probe {path}, not {get.get('path')}")
            port = get.get("port")
            if port not in port_names and port not in port_numbers:
                problem(cwhere, f"{probe} port {port!r} is not a container port")
        res = c.get("resources") or {}
        if not (res.get("requests") or {}).get("cpu"):
            problem(cwhere, "resources.requests.cpu is needed for the CPU HPA")
        if not (res.get("limits") or {}).get("memory"):
            problem(cwhere, "resources.limits.memory is missing")
        csc = c.get("securityContext") or {}
        if csc.get("readOnlyRootFilesystem") is not True:
            problem(cwhere, "securityContext.readOnlyRootFilesystem must be true")
        if csc.get("allowPrivilegeEscalation") is not False:
            problem(cwhere, "securityContext.allowPrivilegeEscalation must be false")
        if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
            problem(cwhere, "capabilities.drop must include ALL")
        for env in c.get("env") or []:
            check_env_var(cwhere, env.get("name", ""))
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                if ref.get("name") != "handoff-gate":
                    problem(cwhere, f"env {env['name']} uses Secret {ref.get('name')!r}")
                elif ref.get("key") not in secret_keys:
                    problem(cwhere, f"env {env['name']} uses key {ref.get('key')!r}, not in secret.example.yaml")
        mount_paths = {}
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes:
                problem(cwhere, f"volumeMount {m.get('name')!r} has no volume")
            mount_paths[m.get("mountPath")] = m
        data_dir = "/var/lib/handoff-gate/data"
        if data_dir not in mount_paths:
            problem(cwhere, f"no writable volume at {data_dir} (data_dir) with a read-only root")
        key_mount = mount_paths.get(f"{data_dir}/form-token.key")
        if not key_mount:
            problem(cwhere, f"the shared form-token key is not mounted at {data_dir}/form-token.key")
        args = c.get("args") or []
        if "--config" in args:
            cfg = Path(args[args.index("--config") + 1])
            mount = mount_paths.get(str(cfg.parent))
            if not mount:
                problem(cwhere, f"--config {cfg}: nothing is mounted at {cfg.parent}")
            else:
                vol = volumes.get(mount.get("name")) or {}
                cm_name = (vol.get("configMap") or {}).get("name")
                cm = configmaps.get(cm_name)
                if cm is None:
                    problem(cwhere, f"--config {cfg}: ConfigMap {cm_name!r} is not defined")
                elif cfg.name not in (cm.get("data") or {}):
                    problem(cwhere, f"--config {cfg}: ConfigMap {cm_name} has no key {cfg.name}")
                else:
                    check_toml(f"kubernetes ConfigMap {cm_name} {cfg.name}", cm["data"][cfg.name])

    for name, vol in volumes.items():
        sec = vol.get("secret")
        if sec:
            if sec.get("secretName") != "handoff-gate":
                problem(where, f"volume {name} uses Secret {sec.get('secretName')!r}")
            for item in sec.get("items") or []:
                if item.get("key") not in secret_keys:
                    problem(where, f"volume {name} uses key {item.get('key')!r}, not in secret.example.yaml")
        cmv = vol.get("configMap")
        if cmv and cmv.get("name") not in configmaps:
            problem(where, f"volume {name} uses ConfigMap {cmv.get('name')!r}, not defined")

    # Fake placeholders only in the example Secret.
    for key, value in (secret.get("stringData") or {}).items():
        if not re.search(r"FAKE|REPLACE", str(value)):
            problem("kubernetes/secret.example.yaml", f"{key} does not look like an obvious placeholder")

    container_ports = {p.get("name") for c in containers for p in c.get("ports") or []} | {
        p.get("containerPort") for c in containers for p in c.get("ports") or []
    }
    for (kind, name), (path, doc) in objects.items():
        w = f"kubernetes/{path.name}"
        if kind == "Service":
            if not matches(doc.get("spec", {}).get("selector"), pod_labels):
                problem(w, "spec.selector does not select the Deployment's pods")
            for p in doc.get("spec", {}).get("ports") or []:
                if p.get("targetPort") not in container_ports:
                    problem(w, f"targetPort {p.get('targetPort')!r} is not a container port")
        elif kind == "HorizontalPodAutoscaler":
            ref = need(w, doc, "spec.scaleTargetRef") or {}
            if (ref.get("kind"), ref.get("name")) != ("Deployment", dep_name):
                problem(w, "scaleTargetRef does not point at the Deployment")
            if not need(w, doc, "spec.maxReplicas"):
                problem(w, "maxReplicas must be set")
            cpu = [m for m in doc.get("spec", {}).get("metrics") or []
                   if (m.get("resource") or {}).get("name") == "cpu"]
            if not cpu:
                problem(w, "no CPU metric")
        elif kind == "PodDisruptionBudget":
            spec_ = doc.get("spec") or {}
            if ("minAvailable" in spec_) == ("maxUnavailable" in spec_):
                problem(w, "set exactly one of minAvailable and maxUnavailable")
            if not matches((spec_.get("selector") or {}).get("matchLabels"), pod_labels):
                problem(w, "selector does not select the Deployment's pods")
        elif kind == "Kustomization":
            for res in doc.get("resources") or []:
                if not (kdir / res).exists():
                    problem(w, f"resource {res} does not exist")
            listed = set(doc.get("resources") or [])
            for other in kdir.glob("*.yaml"):
                if other.name in ("kustomization.yaml", "secret.example.yaml"):
                    continue
                if other.name not in listed:
                    problem(w, f"{other.name} is not listed in resources")
            if "secret.example.yaml" in listed:
                problem(w, "secret.example.yaml (fake values) must not be applied")


# ---------------------------------------------------------------- Compose ----
def check_compose() -> None:
    path = DEPLOY / "docker-compose.yml"
    docs = load_docs(path)
    if not docs:
        return
    compose = docs[0]
    services = compose.get("services") or {}
    volumes = set((compose.get("volumes") or {}).keys())
    for name, svc in services.items():
        where = f"docker-compose.yml service {name}"
        if not (svc.get("image") or svc.get("build")):
            problem(where, "needs image or build")
        env = svc.get("environment") or {}
        names = env.keys() if isinstance(env, dict) else [e.split("=", 1)[0] for e in env]
        for var in names:
            check_env_var(where, var)
        deps = svc.get("depends_on") or {}
        for dep in deps:
            if dep not in services:
                problem(where, f"depends_on {dep!r} is not a service")
        for vol in svc.get("volumes") or []:
            source = vol.split(":", 1)[0] if isinstance(vol, str) else vol.get("source")
            if source and not source.startswith((".", "/")) and source not in volumes:
                problem(where, f"volume {source!r} is not declared under volumes:")
        hc = svc.get("healthcheck")
        if hc and not (isinstance(hc.get("test"), list) and hc["test"][0] in ("CMD", "CMD-SHELL", "NONE")):
            problem(where, "healthcheck.test must be a list starting with CMD or CMD-SHELL")
    gateway = services.get("gateway") or {}
    env = gateway.get("environment") or {}
    if not str(env.get("HANDOFF_GATE__STORE__URL", "")).startswith("postgres://"):
        problem("docker-compose.yml gateway", "store.url should point at the postgres service")
    for dep, cond in (gateway.get("depends_on") or {}).items():
        if services.get(dep, {}).get("healthcheck") is None and cond.get("condition") == "service_healthy":
            if dep != "mailpit":  # mailpit's image has its own HEALTHCHECK
                problem("docker-compose.yml gateway", f"{dep} is waited for as healthy but has no healthcheck")
    replicas = (gateway.get("deploy") or {}).get("replicas", 1)
    for port in gateway.get("ports") or []:
        m = re.search(r"(\d+)-(\d+):\d+$", str(port))
        if replicas > 1 and not m:
            problem("docker-compose.yml gateway", "several replicas need a host port range")
        if m and int(m.group(2)) - int(m.group(1)) + 1 < replicas:
            problem("docker-compose.yml gateway", "the host port range is smaller than the replica count")


# --------------------------------------------------- Dockerfile, systemd -----
def check_other() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for var in re.findall(r"^ENV\s+(HANDOFF_GATE__\w+)", dockerfile, re.M):
        check_env_var("Dockerfile", var)
    for needed in ("USER 10001", "EXPOSE 8080", "HEALTHCHECK", 'ENTRYPOINT ["handoff-gate"]', 'CMD ["serve"]'):
        if needed not in dockerfile:
            problem("Dockerfile", f"missing {needed}")
    env_example = DEPLOY / "systemd" / "env.example"
    for line in env_example.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#?(HANDOFF_GATE__\w+)=", line)
        if m:
            check_env_var("systemd/env.example", m.group(1))
    check_toml("systemd/handoff-gate.toml", (DEPLOY / "systemd" / "handoff-gate.toml").read_text(encoding="utf-8"))


def main() -> int:
    check_kubernetes()
    check_compose()
    check_other()
    for note in notes:
        print(f"note: {note}")
    for p in problems:
        print(f"problem: {p}")
    print(f"check_manifests: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
