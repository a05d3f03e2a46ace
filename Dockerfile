# Overshare in a container: the SPA is built with Node, embedded into a static
# Go binary (pure-Go SQLite, no cgo), and run as a non-root user on distroless.
# Untested here (no Docker on the development machines); see deploy/README.md.

# Node 24 is the Active LTS line (Node 20 left maintenance in April 2026).
FROM node:24-bookworm AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci
COPY frontend/ ./
# The generated GraphQL types are committed; the schema is only needed by codegen.
COPY graph/schema/ /src/graph/schema/
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=web /src/frontend/dist ./frontend/dist
ARG VERSION=container
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/overshare ./cmd/overshare \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/overshare /overshare
# The data directory holds the secret key file when OVERSHARE_SECRET_KEY is
# unset (and the SQLite database when OVERSHARE_DATABASE_URL is unset).
COPY --from=build --chown=65532:65532 /out/data /data
ENV OVERSHARE_ADDR=:8080 \
    OVERSHARE_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER 65532:65532
# Distroless has no curl or shell: the binary checks its own readiness.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/overshare", "healthcheck"]
ENTRYPOINT ["/overshare"]
CMD ["serve"]
