#!/usr/bin/env bash
# Print the path of a thanos binary of THANOS_VERSION, building it first if
# $(go env GOPATH)/bin has none. Thanos is not in Debian; the Go module proxy
# serves its source. `go install ...@version` refuses it (its go.mod has
# replace directives), so the module is downloaded and built where it is, with
# the Go toolchain its go.mod asks for (GOTOOLCHAIN, fetched through the
# module proxy like any module), and with the build tag slicelabels of
# Thanos' own release builds (.promu.yml): without it, the sidecar reads
# Prometheus' labels through the wrong layout and panics ("makeslice: len out
# of range") on the first query. (Their other tag, netgo, only picks Go's own
# DNS resolver for static release binaries.) The binary is never committed.
#
#   deploy/ha/build-thanos.sh            # prints e.g. /root/go/bin/thanos
set -euo pipefail

version=${THANOS_VERSION:-v0.42.5}
toolchain=${THANOS_GOTOOLCHAIN:-go1.26.10}
bin="$(go env GOPATH)/bin/thanos"

tags=slicelabels
if [[ -x $bin ]] && "$bin" --version 2>&1 | grep -q "version ${version#v} " &&
	go version -m "$bin" | grep -q -- "-tags=$tags\$"; then
	echo "$bin"
	exit 0
fi

# The module's own folder in the module cache: read-only, but the build
# writes nothing there, and its fixed path keeps the build cache valid.
export GOTOOLCHAIN=$toolchain GOFLAGS=-mod=readonly
src=$(go mod download -json "github.com/thanos-io/thanos@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[[ -n $src ]] || { echo "build-thanos: go mod download github.com/thanos-io/thanos@$version failed" >&2; exit 1; }
echo "build-thanos: building thanos $version with $toolchain (several minutes the first time)" >&2
start=$SECONDS
(cd "$src" && go build -tags "$tags" -ldflags "-X github.com/prometheus/common/version.Version=${version#v}" -o "$bin" ./cmd/thanos)
echo "build-thanos: built $bin in $((SECONDS - start)) s" >&2
echo "$bin"
