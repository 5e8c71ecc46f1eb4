# syntax=docker/dockerfile:1
# Build: docker build --build-arg VERSION=$(git describe --tags --always) -t vpcepctl .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/vpcepctl ./cmd/vpcepctl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vpcepctl /usr/local/bin/vpcepctl
# Numeric, so that Kubernetes can verify runAsNonRoot.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/vpcepctl"]
CMD ["--help"]
