#!/usr/bin/env bash
# Builds the API-compatibility fixtures: plugins built against other copies of plugin-api.
# Outputs target/compat/release/lib{old,mid,last,newer,broken}_api_plugin.so: old, mid and last
# against the frozen 1.0, 1.1 and 1.2 in api/, newer and broken against copies generated from
# today's source. The broken plugin is a workspace of its own: its copy has the current version,
# which a workspace cannot hold twice (the frozen copy of the current release has it too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bash "$here/make-api-copies.sh"
CARGO_TARGET_DIR="$root/target/compat" cargo build --release -q --manifest-path "$here/Cargo.toml"
CARGO_TARGET_DIR="$root/target/compat" cargo build --release -q \
  --manifest-path "$here/broken-api-plugin/Cargo.toml"
