#!/usr/bin/env bash
# Generates the copies of plugin-api the compatibility fixtures build against, into
# target/compat-src/ (api-1.0, api-1.1, api-1.3, api-broken). See make_api_copies.py for what each is.
set -euo pipefail
python3 "$(cd "$(dirname "$0")" && pwd)/make_api_copies.py"
