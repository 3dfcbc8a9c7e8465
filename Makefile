# kpiwatch: the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 10000x
BENCHTIME ?= 3x
BENCHSIZES ?= 10000,100000,1000000
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -X github.com/prometheus/common/version.Version=$(VERSION) -X github.com/prometheus/common/version.Revision=$(REVISION)

.PHONY: run test test-ha lint generate check-generated fuzz bench bench-go bench-sidebyside bench-stack bench-stack-332k bench-stack-1m build demo

## run: serve the embedded Project 06 catalogue and sample data on :10606
run:
	$(GO) run -ldflags '$(LDFLAGS)' ./cmd/kpiwatch serve

## demo: exporter, Prometheus, Alertmanager and VictoriaMetrics (Debian's packages)
## on loopback with years of backfilled history, until Ctrl-C
demo:
	deploy/demo.sh

## build: build the kpiwatch binary
build:
	$(GO) build -ldflags '$(LDFLAGS)' -o kpiwatch ./cmd/kpiwatch

## test: lint, then every test with the race detector (needs Debian's prometheus,
## prometheus-alertmanager, victoria-metrics and postgresql: see .ci/run)
test: lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## test-ha: the high-availability layout (deploy/ha) under faults: two exporters, two
## Prometheus replicas with Thanos sidecars, a store gateway and a query over a
## filesystem bucket, three Alertmanager peers; kills one of each and loses a data
## folder (builds Thanos into GOPATH/bin the first time: see deploy/ha)
test-ha:
	KPIWATCH_TEST_HA=1 $(GO) test -race -count=1 -v -timeout 60m -run '^TestHAUnderFaults$$' ./internal/hatest/

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## generate: rewrite every generated artifact (sample data, rules, dashboards)
generate:
	$(GO) generate ./...
	$(GO) run ./cmd/kpiwatch generate

## check-generated: fail if the committed artifacts differ from what the generators write
check-generated: generate
	@git diff --exit-code --stat || (echo "generated files are out of date: run make generate and commit" && exit 1)
	@untracked=$$(git ls-files --others --exclude-standard); if [ -n "$$untracked" ]; then echo "generate wrote untracked files:"; echo "$$untracked"; exit 1; fi

## fuzz: run each fuzz target of every package that has one for FUZZTIME, a number of
## inputs (10000x) rather than a duration: Go before 1.27 may fail a timed run at its end
## with "context deadline exceeded" on a loaded machine (go.dev/issue/75804); new inputs
## are minimised briefly (minimising a catalogue-sized input for the default minute stalls a run)
fuzz:
	@for p in $$(git grep -l '^func Fuzz' -- '*_test.go' | xargs -n1 dirname | sort -u); do \
		for f in $$($(GO) test -list '^Fuzz' ./$$p | grep '^Fuzz'); do \
			echo "fuzz ./$$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./$$p || exit 1; done; done

## bench: Go benchmarks, then kpiwatch side by side with the Pushgateway, node_exporter's
## textfile collector and a static file (needs Debian's prometheus-pushgateway and
## prometheus-node-exporter; about 10 minutes; BENCHSIZES=10000,100000 for a quick run)
bench: bench-go bench-sidebyside

## bench-go: Go benchmarks for refresh, render and serve at BENCHSIZES series, the
## render time of each scorecard page on the embedded default, and a backfill of one
## day at a 1-minute step for 10,000 series (once: about a CPU-minute)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./exporter/... -args -bench.sizes=$(BENCHSIZES)
	$(GO) test -run '^$$' -bench . -benchmem ./web/...
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./backfill/...

## bench-sidebyside: the side-by-side table of scrape times, sizes and memory
bench-sidebyside:
	$(GO) run ./bench/sidebyside -sizes=$(BENCHSIZES)

## bench-stack: the whole stack (kpiwatch, Prometheus with the generated rules and
## Alertmanager, VictoriaMetrics with vmalert) at STACKSIZES observed series: head
## series, rule evaluation, memory, projection to 1M (needs Debian's prometheus,
## prometheus-alertmanager and victoria-metrics; about 20 minutes)
STACKSIZES ?= 10000,100000
STACKINTERVAL ?= 1m
# STACKFLAGS: more flags, e.g. -first-scrape.timeout=35m on a busy machine
STACKFLAGS ?=
bench-stack:
	$(GO) run ./bench/stack -sizes=$(STACKSIZES) -interval=$(STACKINTERVAL) $(STACKFLAGS)

## bench-stack-332k: the national commune scale, 332,100 observed series (100 KPIs x
## 3,321 communes): Prometheus (and a rule-free second one), then VictoriaMetrics +
## vmalert, one stack at a time (side by side they pass 20 GiB); each with its own
## Alertmanager and a missed target delivered to a webhook; about 25 minutes
bench-stack-332k:
	$(GO) run ./bench/stack -sizes=332100 -stacks=prometheus -interval=$(STACKINTERVAL) $(STACKFLAGS)
	$(GO) run ./bench/stack -sizes=332100 -stacks=victoriametrics -interval=$(STACKINTERVAL) $(STACKFLAGS)

## bench-stack-1m: 1,000,000 observed series on VictoriaMetrics single-node + vmalert +
## Alertmanager (the flags of deploy/systemd/victoria-metrics.default); about 15 minutes,
## needs some 12 GiB free
bench-stack-1m:
	$(GO) run ./bench/stack -sizes=1000000 -stacks=victoriametrics -interval=$(STACKINTERVAL) $(STACKFLAGS)
