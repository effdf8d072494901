# syntax=docker/dockerfile:1
# The function-sco runtime image: `crossplane xpkg build --package-root=package
# --embed-runtime-image=<this image>` turns it into the Function package.

# Debian 12 builder, so the binary links against the glibc the distroless runtime ships.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY proto proto
COPY crates crates
COPY src src
# The protocol compiles with protox (pure Rust): no protoc needed.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin function-sco \
    && cp target/release/function-sco /function-sco

# glibc, libgcc and CA certificates, no shell; runs as uid 65532 (Crossplane forces 2000 anyway).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /function-sco /function-sco
USER 65532:65532
# gRPC (RunFunction, health, reflection) and Prometheus metrics at /metrics.
EXPOSE 9443 8080
# Crossplane passes no arguments and sets TLS_SERVER_CERTS_DIR; `crossplane render` passes
# --insecure. Both need the binary as ENTRYPOINT.
ENTRYPOINT ["/function-sco"]
