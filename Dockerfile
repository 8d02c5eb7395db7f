# syntax=docker/dockerfile:1
# Release image of the server.
#
# Stages: `chef` (toolchain + cargo-chef), `planner` (reduces the sources to a recipe: the
# manifests, Cargo.lock and .cargo/config.toml), `build` (compiles the dependencies from the
# recipe in a layer of their own, then this crate), and the runtime image. A source change
# rebuilds only the last `cargo build`; a dependency change rebuilds from `cargo chef cook`.
#
# The same cargo commands run locally (`make release` runs the last one):
#   cargo build --release --locked --features pg-tls --bin techtransfer
#
# Tags are pinned; bump them deliberately (and the Debian release of both stages together:
# the binary links the build stage's glibc and OpenSSL 3).

FROM rust:1.95.0-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
# pg-tls builds libpq with OpenSSL: it needs the headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only (the recipe also carries .cargo/config.toml, e.g. the SQLite build flags).
RUN cargo chef cook --release --features pg-tls --bin techtransfer --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --features pg-tls --bin techtransfer

FROM debian:12.11-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin techtransfer
WORKDIR /app
COPY --from=build /src/target/release/techtransfer /usr/local/bin/techtransfer
COPY config ./config
USER techtransfer
# config/production.toml listens on 0.0.0.0:8080, logs JSON and sends mail over SMTP.
ENV TT_ENV=production
EXPOSE 8080
# GET /healthz on the configured address; exit code 0 when the server answers 200.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["techtransfer", "healthcheck", "--timeout-secs", "4"]
# `docker stop` sends SIGTERM: in-flight requests get server.shutdown_timeout_secs to finish.
STOPSIGNAL SIGTERM
CMD ["techtransfer", "serve"]
