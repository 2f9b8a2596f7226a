# syntax=docker/dockerfile:1
# Zoryx in a container: the host and the first-party plugins on a small Debian base.
#
#   docker build -t zoryx .
#   docker run -d --name zoryx --stop-timeout 60 \
#     -e DISCORD_TOKEN=... -e BOT_OWNER_ID=... \
#     -v zoryx-data:/zoryx/data -v zoryx-extensions:/zoryx/extensions \
#     -v zoryx-logs:/zoryx/botlogs zoryx
#
# Without DISCORD_TOKEN it runs in offline mode against its built-in simulator. The health
# endpoint listens on the container's loopback (ZORYX_HEALTH_BIND); HEALTHCHECK asks it with
# `zoryx health`, so the image needs no HTTP tool. See README, "Running as a service";
# `make image-test` builds and runs the final stage with podman.

ARG RUST_VERSION=1.90

# --- builder: the host and the plugins in plugins/, release mode -------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep downloaded crates and compiled dependencies between builds; the results
# are copied out of the cached target folder in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p zoryx-host -p hello -p activity -p polls -p help -p scheduler -p backups -p automations -p shardmonitor -p shardmanager -p marketplace -p assistant \
 && mkdir -p /out/extensions \
 && cp target/release/zoryx /out/zoryx \
 && for plugin in hello activity polls help scheduler backups automations shardmonitor shardmanager marketplace assistant; do \
      cp "target/release/lib${plugin}.so" "/out/extensions/${plugin}.so"; \
    done

# --- runtime: the binary, the plugins and an unprivileged user ---------------------------------
FROM debian:bookworm-slim AS runtime
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /zoryx --shell /usr/sbin/nologin zoryx \
 && mkdir -p /zoryx/data /zoryx/extensions /zoryx/botlogs \
 && chown -R zoryx:zoryx /zoryx
COPY --from=builder /out/zoryx /usr/local/bin/zoryx
COPY --from=builder --chown=zoryx:zoryx /out/extensions/ /zoryx/extensions/
WORKDIR /zoryx
# config.json is written here on first run; mount one over it to keep your settings.
ENV ZORYX_HEALTH_BIND=127.0.0.1:8081
USER zoryx
VOLUME ["/zoryx/data", "/zoryx/extensions", "/zoryx/botlogs"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["zoryx", "health"]
# SIGTERM drains commands (up to 10 s), unloads plugins and backs up the databases: give it
# time with `docker run --stop-timeout 60` (Docker's default is 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["zoryx"]
CMD ["run", "--no-console"]
