# syntax=docker/dockerfile:1
#
# The Sluice container image: one static binary (no cgo) on distroless/static,
# run as the unprivileged user 65532, with `sluice healthcheck` as its probe
# (the image has no shell, wget or curl). See docs/deploy.md.
#
#   docker build -t sluice:dev --build-arg VERSION=$(git describe --always) .
#   docker run -p 9280:9280 -v sluice-data:/var/lib/sluice sluice:dev
#
# deploy/dockerfile_test.go parses this file with BuildKit's parser and checks
# it, and runs its `go build` command with -n (no container runtime here).

# Keep equal to the go directive of go.mod: the golang image does not
# download a newer toolchain (GOTOOLCHAIN=local).
ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Set by BuildKit from --platform: cross-compiling is a matter of GOOS/GOARCH.
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/sluice ./cmd/sluice
# The data directory, owned by the user the server runs as.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sluice /usr/local/bin/sluice
COPY --from=build --chown=65532:65532 /out/data /var/lib/sluice
COPY deploy/image/sluice.yaml /etc/sluice/sluice.yaml
USER 65532:65532
# HTTP (ingest, query API, UI, metrics), Fluentd forward (TCP, UDP
# heartbeat), syslog (UDP, TCP, TLS), OTLP gRPC.
EXPOSE 9280 24224 24224/udp 5514 5514/udp 6514 4317
VOLUME ["/var/lib/sluice"]
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/sluice", "healthcheck", "--config", "/etc/sluice/sluice.yaml"]
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["serve", "--config", "/etc/sluice/sluice.yaml"]
