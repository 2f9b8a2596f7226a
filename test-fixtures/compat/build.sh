#!/usr/bin/env bash
# Builds the API-compatibility fixtures: plugins built against other copies of plugin-api.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
python3 "$here/make_api_copies.py"
CARGO_TARGET_DIR="$root/target/compat" cargo build --release -q --manifest-path "$here/Cargo.toml"
