#!/usr/bin/env bash
# Build the scrubber as WebAssembly for the form's live warning:
# crates/scrub-wasm (handoff-scrub behind one wasm-bindgen function) for
# wasm32-unknown-unknown, then wasm-bindgen's glue, into assets/wasm/
# (scrub_bg.wasm and scrub.js, both committed so the gateway runs without
# wasm tooling).
#
#   scripts/build-wasm.sh           rebuild assets/wasm/
#   scripts/build-wasm.sh --check   rebuild into a temporary folder and fail
#                                   if assets/wasm/ differs (CI runs this)
#
# Needs: rustup target add wasm32-unknown-unknown, and wasm-bindgen-cli at
# exactly the version of the wasm-bindgen library in Cargo.lock:
#   cargo install wasm-bindgen-cli --locked --version "$(scripts/build-wasm.sh --bindgen-version)"
# The build is deterministic: paths are remapped, so the bytes depend only on
# the sources, Cargo.lock, the Rust toolchain and wasm-bindgen's version.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

want=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' Cargo.lock)
if [ "${1:-}" = "--bindgen-version" ]; then
  echo "$want"
  exit 0
fi
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}') || true
if [ "$have" != "$want" ]; then
  echo "wasm-bindgen-cli ${have:-is not installed}; Cargo.lock's wasm-bindgen is $want:" >&2
  echo "  cargo install wasm-bindgen-cli --locked --version $want" >&2
  exit 1
fi
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || {
  echo "the wasm32-unknown-unknown target is missing: rustup target add wasm32-unknown-unknown" >&2
  exit 1
}

out=assets/wasm
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

# Its own target folder: the flags below would otherwise rebuild the host's.
export CARGO_TARGET_DIR="$root/target/wasm"
export RUSTFLAGS="--remap-path-prefix=$root=/handoff-gate --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
cargo build --locked --quiet -p handoff-scrub-wasm --target wasm32-unknown-unknown --profile wasm
wasm-bindgen --target no-modules --no-typescript --remove-name-section --remove-producers-section --out-dir "$out" --out-name scrub \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm/handoff_scrub_wasm.wasm"

size() { gzip -9c "$1" | wc -c; }
echo "assets/wasm: scrub_bg.wasm $(wc -c <"$out/scrub_bg.wasm") bytes ($(size "$out/scrub_bg.wasm") gzipped), scrub.js $(wc -c <"$out/scrub.js") bytes ($(size "$out/scrub.js") gzipped)"

if [ "${1:-}" = "--check" ]; then
  for f in scrub_bg.wasm scrub.js; do
    if ! cmp -s "$out/$f" "assets/wasm/$f"; then
      echo "assets/wasm/$f is stale: it differs from a fresh build of crates/scrub-wasm ($(rustc --version), wasm-bindgen $want)." >&2
      echo "Rebuild and commit it: scripts/build-wasm.sh" >&2
      exit 1
    fi
  done
  echo "assets/wasm/ matches a fresh build"
fi
