#!/usr/bin/env bash
# Builds the marketplace folder of the first-party plugins (`make market-index` runs it):
#   market-index.sh SECRET_KEY_FILE OUT_DIR BUILD_DIR EXT
# from the libraries `make plugins` built: each is checked like `zoryx plugins check`, copied
# into OUT_DIR as NAME-VERSION-TARGET.EXT and listed in OUT_DIR/index.json under its category;
# the index is then signed with SECRET_KEY_FILE (OUT_DIR/index.json.sig). Upload OUT_DIR to any
# static file server and give hosts its index.json URL and the key's public half.
# A new key: `zoryx market keygen --secret FILE` (keep the file out of OUT_DIR and out of git).
set -euo pipefail
if [ $# -ne 4 ]; then
  echo "usage: $0 SECRET_KEY_FILE OUT_DIR BUILD_DIR EXT" >&2
  exit 2
fi
secret=$1 out=$2 build=$3 ext=$4
zoryx=${ZORYX:-$build/zoryx}
license="MIT OR Apache-2.0"
homepage="https://github.com/zoryx-rs/zoryx"
# category: plugins
groups=(
  "Core:help marketplace assistant"
  "Examples:hello"
  "Community:activity polls"
  "Utility:scheduler"
  "Administration:backups automations"
  "Monitoring:shardmonitor shardmanager"
)
for group in "${groups[@]}"; do
  category=${group%%:*}
  libs=()
  for name in ${group#*:}; do
    lib="$build/lib${name//-/_}.$ext"
    if [ ! -f "$lib" ]; then
      echo "missing $lib (run make plugins first)" >&2
      exit 1
    fi
    libs+=("$lib")
  done
  "$zoryx" market index --out "$out" --name "Zoryx first-party plugins" \
    --category "$category" --license "$license" --homepage "$homepage" "${libs[@]}"
done
"$zoryx" market sign --secret "$secret" "$out/index.json"
