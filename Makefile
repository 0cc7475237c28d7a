# tce-platform — every entry point a newcomer, CI and other tools use.
# `make test` installs what it needs (cached), then runs every tier.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/.cache/bin:$(CURDIR)/node_modules/.bin:$(PATH)

MOCHA := mocha --import=tsx --require test/support/root-hooks.ts --reporter spec
IDL := $(wildcard proto/idl/*.idl)
PROTO_STAMP := proto/gen/.stamp

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

# ---------------------------------------------------------------- install
node_modules/.stamp: package.json package-lock.json
	@echo "==> npm ci (dependencies from package-lock.json)"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.stamp infra ## Install npm dependencies and the real test infrastructure (cached)

infra: ## Build/install PostgreSQL, FerretDB, etcd, kube-apiserver, kube-controller-manager, kubectl, helm, grpcurl, nginx, chromium (cached)
	scripts/install-infra.sh nginx chromium postgresql ferretdb etcd helm k8s grpcurl

# ---------------------------------------------------------------- build
$(PROTO_STAMP): $(IDL) $(wildcard proto/src/*.ts) $(wildcard services/*/proto/*.proto) scripts/gen-proto.sh node_modules/.stamp
	scripts/gen-proto.sh
	@touch $@

proto: $(PROTO_STAMP) ## Generate .proto and TypeScript from proto/idl/*.idl into proto/gen/ (gitignored)

build: proto ## Compile TypeScript to dist/ (what the images run)
	tsc -p tsconfig.build.json

crd: node_modules/.stamp ## Regenerate the Platform CRD (crds/ and the chart's copy) from operator/src/api/schema.ts
	tsx operator/src/api/write-crd.ts

lint: node_modules/.stamp proto ## Formatting, eslint (no floating promises), types, circular imports
	@echo "==> prettier"; prettier --check --log-level warn .
	@echo "==> tsc"; tsc -p tsconfig.json --noEmit
	@echo "==> eslint"; eslint --max-warnings 0 .
	@echo "==> madge (circular imports)"; madge --circular --extensions ts --ts-config tsconfig.json $(wildcard proto/src services operator sdk test/support scripts)

format: node_modules/.stamp ## Rewrite files with prettier
	prettier --write --log-level warn .

# ---------------------------------------------------------------- test
test: deps proto lint ## Install what is needed, then run every test tier
	$(MAKE) --no-print-directory test-unit test-integration test-k8s test-e2e

test-unit: node_modules/.stamp proto ## Pure logic, no external processes
	$(MOCHA) --timeout 20000 'test/unit/**/*.test.ts'

test-integration: deps proto ## Against a real store (FerretDB), nginx, real gRPC sockets
	$(MOCHA) --timeout 120000 'test/integration/**/*.test.ts'

test-k8s: deps proto ## Against a real control plane (etcd + kube-apiserver + kube-controller-manager), kubectl, helm
	$(MOCHA) --timeout 180000 'test/k8s/**/*.test.ts'

test-e2e: deps proto web ## The local platform end to end, nginx in front, headless chromium
	$(MOCHA) --timeout 300000 'test/e2e/**/*.test.ts'

# ---------------------------------------------------------------- real parts
store-up: deps ## Start a throwaway FerretDB; URL in .cache/store/url
	tsx scripts/infra.ts store up

store-down: node_modules/.stamp ## Stop the store and remove its data
	tsx scripts/infra.ts store down

cluster-up: deps ## Start etcd + kube-apiserver + kube-controller-manager; kubeconfig in .cache/cluster/kubeconfig
	tsx scripts/infra.ts cluster up

cluster-down: node_modules/.stamp ## Stop the control plane and remove its data
	tsx scripts/infra.ts cluster down

# ---------------------------------------------------------------- run
web: node_modules/.stamp proto ## Build the web client into web/dist/ (served by nginx at /)
	tsx web/build.ts

run: deps proto web ## Start the whole platform locally behind nginx (Ctrl-C stops it)
	tsx scripts/run-local.ts

demo: deps proto web ## The platform's main job, locally (see README)
	tsx scripts/demo.ts $(ARGS)

images: ## Build container images (needs a Docker engine)
	scripts/build-images.sh

# ---------------------------------------------------------------- benchmarks
bench-auth: deps proto ## Token verifications/s per core (vs. jose) and logins/s (scrypt-bound); BENCH_SECONDS=3
	tsx bench/auth/auth.bench.ts

bench-location: deps proto ## Location units vs Redis GEOSEARCH (1M users, nearby 1 km/50), 1/2/4 units, mq path, devices→gateways path; LOCATION_BENCH_USERS, LOCATION_BENCH_SECONDS, LOCATION_BENCH_MQ_POINTS, LOCATION_BENCH_DEVICES
	@command -v redis-server >/dev/null || { [[ $$(id -u) -eq 0 ]] && apt-get install -y --no-install-recommends redis-server >/dev/null; } || true
	tsx bench/location/bench.ts

bench-files: deps proto ## File MB/s through nginx vs nginx static and the raw GridFS driver, 1/8/64 × 64 MB; BENCH_FILE_MB, BENCH_CONCURRENCY
	tsx bench/files/files.bench.ts

bench-operator: deps ## Operator vs a real control plane: apply→children, requests/reconcile, 100 Platforms, idle requests/min; OPERATOR_BENCH_PLATFORMS
	tsx bench/operator/operator.bench.ts

bench-mq: deps proto ## EasyMQ vs nats-server (core, JetStream) and rabbitmq-server, 128 B, transient+durable; BENCH_MQ_TRANSIENT, BENCH_MQ_DURABLE
	@# The peers are optional components: a failed install is reported by the benchmark, not fatal here.
	scripts/install-infra.sh nats || echo "bench-mq: nats-server could not be built (see above)"
	scripts/install-infra.sh rabbitmq || echo "bench-mq: rabbitmq-server could not be installed (see above)"
	tsx bench/mq/run.ts

bench-gateway: deps proto ## Gateway vs Centrifugo v6: idle connections + RSS, device→device p50/p99 across 2 gateways, fan-out; BENCH_GATEWAY_IDLE, BENCH_GATEWAY_FANOUT, BENCH_GATEWAY_RATES, BENCH_SECONDS
	@# Centrifugo is an optional component: a failed build is reported by the benchmark, not fatal here.
	scripts/install-infra.sh centrifugo || echo "bench-gateway: centrifugo could not be built (see above)"
	tsx bench/gateway/gateway.bench.ts

.PHONY: help deps infra proto build lint format test test-unit test-integration test-k8s test-e2e \
	store-up store-down cluster-up cluster-down web run demo images bench-auth bench-location bench-files crd bench-operator bench-mq bench-gateway
