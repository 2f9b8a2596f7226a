#!/usr/bin/env bash
# Builds every test fixture into target/fixtures/ under stable names, one line per artefact.
# Idempotent; run it from anywhere. `build.sh bench` also builds the 50 benchmark plugins and
# the 10 message listeners.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/target/fixtures"
mkdir -p "$out"
ext=so
[ "$(uname)" = Darwin ] && ext=dylib
# Release builds: the tests measure memory, and the release profile strips debuginfo.
lib() { echo "${CARGO_TARGET_DIR:-$root/target}/release/lib${1//-/_}.$ext"; }
# zoryx-host is named in every build so its feature pins apply: the fixtures share one build of
# plugin-api and its dependencies with the host, the plugins and the tests.
build() { cargo build --release -q -p zoryx-host "$@"; }
put() { cp "$1" "$out/$2.tmp" && mv -f "$out/$2.tmp" "$out/$2"; echo "fixture $2"; }

build -p fixture-basic
put "$(lib fixture-basic)" "basic-v1.$ext"
build -p fixture-basic --features fixture-basic/v2
put "$(lib fixture-basic)" "basic-v2.$ext"

build -p fixture-interactions
put "$(lib fixture-interactions)" "interactions.$ext"
build -p fixture-interactions --features fixture-interactions/too-many-choices
put "$(lib fixture-interactions)" "interactions-bad.$ext"

for crate in fixture-init-panic fixture-init-error fixture-pinning fixture-misbehave; do
  build -p "$crate"
  put "$(lib "$crate")" "${crate#fixture-}.$ext"
done

# Two plugins from one storage fixture, to prove neither sees the other's data.
for name in storage_a storage_b; do
  FIXTURE_NAME="$name" build -p fixture-storage
  put "$(lib fixture-storage)" "${name//_/-}.$ext"
done

# name|version|deps|conflicts|file
while IFS='|' read -r name version deps conflicts file; do
  FIXTURE_NAME="$name" FIXTURE_VERSION="$version" FIXTURE_DEPS="$deps" FIXTURE_CONFLICTS="$conflicts" \
    build -p fixture-manifest
  put "$(lib fixture-manifest)" "$file.$ext"
done <<'LIST'
a|1.0.0|b:^1.0||manifest-a
b|1.0.0|c:^1.0||manifest-b
c|1.0.0|||manifest-c
cyc_a|1.0.0|cyc_b:*||manifest-cyc-a
cyc_b|1.0.0|cyc_c:*||manifest-cyc-b
cyc_c|1.0.0|cyc_a:*||manifest-cyc-c
needy|1.0.0|absent:^1||manifest-needs-missing
picky|1.0.0|c:^2||manifest-needs-v2
rival|1.0.0||c|manifest-conflicts
LIST

"${CC:-cc}" -shared -fPIC -o "$out/not-a-plugin.$ext.tmp" test-fixtures/c/not_a_plugin.c
mv -f "$out/not-a-plugin.$ext.tmp" "$out/not-a-plugin.$ext"
echo "fixture not-a-plugin.$ext"

bash test-fixtures/compat/build.sh
for name in old-api mid-api last-api newer-api broken-api; do
  put "$root/target/compat/release/lib${name//-/_}_plugin.$ext" "$name.$ext"
done

# The first-party plugins too, for the tests that exercise them.
build -p hello -p activity -p polls -p help -p scheduler -p backups -p automations -p shardmonitor -p shardmanager -p marketplace -p assistant
for p in hello activity polls help scheduler backups automations shardmonitor shardmanager marketplace assistant; do put "$(lib "$p")" "plugin-$p.$ext"; done

# `build.sh bench`: 50 plugins from the template's shape, t00..t49, each depending on the one
# before (a 50-deep chain for the resolver).
if [ "${1:-}" = bench ]; then
  mkdir -p "$out/bench"
  for i in $(seq -w 0 49); do
    deps=""
    [ "$i" != 00 ] && deps="t$(printf %02d $((10#$i - 1))):^1.0"
    FIXTURE_NAME="t$i" FIXTURE_VERSION="1.0.$((10#$i))" FIXTURE_DEPS="$deps" FIXTURE_CONFLICTS="" \
      build -p fixture-manifest
    cp "$(lib fixture-manifest)" "$out/bench/t$i.$ext"
  done
  echo "bench plugins: 50 in $out/bench"
  # Ten message listeners, l0..l9, for the Discord benchmark (one crate named at build time).
  mkdir -p "$out/listeners"
  for i in $(seq 0 9); do
    FIXTURE_NAME="l$i" build -p fixture-listener
    cp "$(lib fixture-listener)" "$out/listeners/.l$i.$ext.tmp"
    mv -f "$out/listeners/.l$i.$ext.tmp" "$out/listeners/l$i.$ext"
  done
  echo "fixture listeners: 10 in $out/listeners"
fi
