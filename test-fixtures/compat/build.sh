#!/usr/bin/env bash
# Builds the API-compatibility fixtures: plugins built against other copies of plugin-api.
# Outputs target/compat/release/lib{old,mid,newer,broken}_api_plugin.so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bash "$here/make-api-copies.sh"
CARGO_TARGET_DIR="$root/target/compat" cargo build --release -q --manifest-path "$here/Cargo.toml"
