#!/usr/bin/env bash
# Publishes built plugin libraries into the extensions folder (`make plugins` runs it):
#   publish-plugins.sh BUILD_DIR EXTENSIONS_DIR EXT NAME...
# Only libraries whose bytes changed are published, so a running host reloads those and keeps
# the others (and their in-memory state) as they are. Each is published atomically: copied to a
# hidden temp name in the same folder, then renamed over the old file, so the host's watcher
# never sees a half-written library.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD_DIR EXTENSIONS_DIR EXT NAME..." >&2
  exit 2
fi
build_dir=$1 ext_dir=$2 ext=$3
shift 3
mkdir -p "$ext_dir"
for name in "$@"; do
  lib="$build_dir/lib${name//-/_}.$ext"
  dest="$ext_dir/$name.$ext"
  if [ ! -f "$lib" ]; then
    echo "missing $lib (build $name first)" >&2
    exit 1
  fi
  if [ -f "$dest" ] && cmp -s "$lib" "$dest"; then
    echo "unchanged $dest"
    continue
  fi
  tmp="$ext_dir/.$name.$ext.tmp"
  cp "$lib" "$tmp"
  mv -f "$tmp" "$dest"
  echo "published $dest"
done
