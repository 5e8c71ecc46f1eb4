# vpcepctl: make build | demo | test | check | examples-test | bench | microbench | ci
GO          ?= go
BIN         ?= bin/vpcepctl
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEMO_STATE  ?= $(CURDIR)/bin/demo-sim.json
FUZZTIME    ?= 20s

.PHONY: build demo test check fmt vet staticcheck examples-test fuzz bench microbench ci clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/vpcepctl

# The main job on the embedded simulator: plan, apply, then plan again
# (which must show no changes). The simulator state starts empty each time.
demo: build
	@rm -f $(DEMO_STATE)
	@echo '== vpcepctl plan (fresh simulator)'
	$(BIN) --sim --sim-state $(DEMO_STATE) plan -f examples/manifests
	@echo '== vpcepctl apply'
	$(BIN) --sim --sim-state $(DEMO_STATE) apply -f examples/manifests --yes --report bin/demo-report.json
	@echo '== vpcepctl plan again: nothing left to do'
	$(BIN) --sim --sim-state $(DEMO_STATE) plan -f examples/manifests --detailed-exitcode

# VPCEPCTL_LOAD_TEST=1 adds the two-process load test (minutes), which a
# plain go test ./... skips.
test:
	VPCEPCTL_LOAD_TEST=1 $(GO) test -race -count=1 -timeout 9m ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

check: fmt vet staticcheck test

# The tests of the Kubernetes examples: a module of its own, so that
# k8s.io/api stays out of vpcepctl's go.mod (and out of go test ./...
# here). Tidy, vetted and tested like the rest.
examples-test:
	cd examples/kubernetes && $(GO) mod tidy -diff && $(GO) vet ./... && \
		$(GO) run $(STATICCHECK) ./... && $(GO) test -race -count=1 ./...

# Short fuzzing of the manifest loader and of the decoders of every API
# answer (also run by ci).
DECODERS    := vpcep:FuzzDecodeList vpcep:FuzzDecodeEndpoint vpcep:FuzzDecodeService vpcep:FuzzDecodeQuota otc:FuzzDecodeToken
fuzz:
	$(GO) test ./manifests -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) -fuzzminimizetime 0
	for pf in $(DECODERS); do \
		pkg=$${pf%%:*}; f=$${pf#*:}; \
		out=$$($(GO) test ./$$pkg -run '^$$' -fuzz "^$$f\$$" -fuzztime 5s -fuzzminimizetime 0 2>&1); rc=$$?; \
		echo "$$out"; [ $$rc -eq 0 ] || exit 1; \
		if echo "$$out" | grep -q 'no fuzz tests to fuzz'; then echo "fuzz: no $$f in ./$$pkg"; exit 1; fi; \
	done

# One table of ratios (rate control, waits, connections) measured side by
# side against the simulator, about 7 minutes; README.md shows it.
bench:
	$(GO) run ./internal/bench

# The Go benchmarks (listing, diff, plan of 100k endpoints, AIMD).
microbench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x ./...

ci: check examples-test fuzz

clean:
	rm -rf bin
