# Release build with TLS to PostgreSQL (pq-sys/bundled needs the OpenSSL headers).
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY src ./src
COPY migrations ./migrations
COPY config ./config
RUN cargo build --release --locked --features pg-tls --bin techtransfer

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app techtransfer
WORKDIR /app
COPY --from=build /src/target/release/techtransfer /usr/local/bin/techtransfer
COPY config ./config
USER techtransfer
ENV TT_ENV=production
EXPOSE 8080
CMD ["techtransfer", "serve"]
