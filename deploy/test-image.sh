#!/usr/bin/env bash
# Builds the Dockerfile's final stage with podman and runs it: the container must report
# healthy through its HEALTHCHECK (`zoryx health`), run as a non-root user with data/,
# extensions/ and botlogs/ as volumes, and stop cleanly on SIGTERM with its backup written.
# `make image-test` runs it; CI too.
#
# No container registry is reachable here, so the two base images are stood in for:
# - debian:bookworm-slim is a minimal Debian bookworm made with debootstrap from Debian's own
#   packages and stored under that name (made once, kept in podman's storage);
# - the builder stage (FROM rust:...) cannot run, so its output, /out/zoryx and
#   /out/extensions/*.so, comes from the same `cargo build` on this machine, stored as a local
#   image named `builder` that the final stage's `COPY --from=builder` then reads.
# The final stage itself is the Dockerfile's, unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# This machine's containers need runc (crun refuses its hybrid cgroups) and limits no higher
# than the session's own (it cannot raise them).
run_opts=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

base=docker.io/library/debian:bookworm-slim
if ! podman image exists "$base"; then
  echo "image-test: making $base with debootstrap"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import -q - "$base" >/dev/null
  rm -rf "$rootfs"
fi

# The builder stage's output, built as it builds it.
plugins=$(ls plugins)
cargo build --release --locked -q -p zoryx-host $(printf -- '-p %s ' $plugins)
ctx=$(mktemp -d)
container=zoryx-image-test
cleanup() {
  podman rm -f "$container" >/dev/null 2>&1 || true
  podman rmi -f localhost/zoryx:image-test localhost/builder:latest >/dev/null 2>&1 || true
  rm -rf "$ctx"
}
trap cleanup EXIT
podman rm -f "$container" >/dev/null 2>&1 || true
mkdir -p "$ctx/out/extensions"
cp target/release/zoryx "$ctx/out/zoryx"
for p in $plugins; do cp "target/release/lib${p//-/_}.so" "$ctx/out/extensions/$p.so"; done
printf 'FROM scratch\nCOPY out/ /out/\n' >"$ctx/builder.Dockerfile"
podman build -q -f "$ctx/builder.Dockerfile" -t localhost/builder:latest "$ctx" >/dev/null

# The final stage, as written.
sed -n '/^FROM debian:bookworm-slim AS runtime/,$p' Dockerfile >"$ctx/runtime.Dockerfile"
grep -q HEALTHCHECK "$ctx/runtime.Dockerfile"
podman build -q --format docker "${run_opts[@]}" -f "$ctx/runtime.Dockerfile" \
  -t localhost/zoryx:image-test "$ctx" >/dev/null
echo "image-test: built the final stage ($(podman image inspect localhost/zoryx:image-test --format '{{.Size}}') bytes)"

volumes=$(podman image inspect localhost/zoryx:image-test --format '{{json .Config.Volumes}}')
for folder in data extensions botlogs; do
  case "$volumes" in *"\"/zoryx/$folder\""*) ;; *) echo "image-test: /zoryx/$folder is not a volume: $volumes" >&2; exit 1 ;; esac
done

# No token: offline mode, the bot connects to its in-process simulator.
podman run -d --name "$container" "${run_opts[@]}" localhost/zoryx:image-test >/dev/null 2>&1
healthy=""
for _ in $(seq 1 60); do
  if podman healthcheck run "$container" >/dev/null 2>&1; then healthy=yes; break; fi
  sleep 1
done
if [ -z "$healthy" ]; then
  echo "image-test: the container never became healthy" >&2
  podman logs "$container" >&2 || true
  exit 1
fi
echo "image-test: healthy: $(podman exec "$container" zoryx health)"
uid=$(podman exec "$container" id -u)
if [ "$uid" = 0 ]; then echo "image-test: runs as root" >&2; exit 1; fi
echo "image-test: runs as uid $uid"
plugins_loaded=$(podman exec "$container" sh -c 'ls /zoryx/extensions' | tr '\n' ' ')
echo "image-test: extensions: $plugins_loaded"

podman stop -t 60 "$container" >/dev/null 2>&1
code=$(podman inspect "$container" --format '{{.State.ExitCode}}')
if [ "$code" != 0 ]; then
  echo "image-test: exit code $code after SIGTERM" >&2
  podman logs "$container" >&2 || true
  exit 1
fi
# Read the whole log before searching it: `grep -q` stops reading at the first match, and
# under pipefail the writer's SIGPIPE would fail the pipe.
logs=$(podman logs "$container" 2>&1)
if ! grep -q "databases backed up" <<<"$logs"; then
  echo "image-test: no backup at stop" >&2
  printf '%s\n' "$logs" >&2
  exit 1
fi
echo "image-test: stopped by SIGTERM with exit code 0 and a backup"
