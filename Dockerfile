# Build: a release binary. Runtime: a slim image with only CA certificates added (TLS to the provider and,
# when used, PostgreSQL). Time zones are compiled into the binary, so no tzdata is needed.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
# Console pages and the OpenAPI description are compiled into the binary.
COPY assets assets
# Named in Cargo.toml, so it must be present even though only `tether` is built.
COPY benches benches
RUN cargo build --release --locked --bin tether

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/target/release/tether /usr/local/bin/tether
COPY message_templates /app/message_templates
ENV TETHER_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/tether.db \
    TETHER_TEMPLATES_DIR=/app/message_templates
EXPOSE 8080
# Runs as root: fly.io volumes mount root-owned at /data. Migrations run at start; `tether migrate` runs them alone.
CMD ["tether", "serve"]
