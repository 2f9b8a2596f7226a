#!/usr/bin/env bash
# Generates the copies of plugin-api the compatibility fixtures build against, into
# target/compat-src/ (api-newer, api-broken; the released 1.0, 1.1 and 1.2 are frozen in api/).
# See make_api_copies.py for what each is.
set -euo pipefail
python3 "$(cd "$(dirname "$0")" && pwd)/make_api_copies.py"
