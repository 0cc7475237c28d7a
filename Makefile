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

infra: ## Build/install FerretDB, etcd, kube-apiserver, kube-controller-manager, kubectl, helm, grpcurl, nginx, chromium (cached)
	scripts/install-infra.sh nginx chromium ferretdb etcd helm k8s grpcurl

# ---------------------------------------------------------------- build
$(PROTO_STAMP): $(IDL) $(wildcard proto/src/*.ts) scripts/gen-proto.sh node_modules/.stamp
	scripts/gen-proto.sh
	@touch $@

proto: $(PROTO_STAMP) ## Generate .proto and TypeScript from proto/idl/*.idl into proto/gen/ (gitignored)

build: proto ## Compile TypeScript to dist/ (what the images run)
	tsc -p tsconfig.build.json

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
	$(MOCHA) 'test/unit/**/*.test.ts'

test-integration: deps proto ## Against a real store (FerretDB), nginx, real gRPC sockets
	$(MOCHA) --timeout 120000 'test/integration/**/*.test.ts'

test-k8s: deps proto ## Against a real control plane (etcd + kube-apiserver + kube-controller-manager), kubectl, helm
	$(MOCHA) --timeout 180000 'test/k8s/**/*.test.ts'

test-e2e: deps proto ## The local platform end to end, nginx in front, headless chromium
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
run: deps proto ## Start the whole platform locally behind nginx (Ctrl-C stops it)
	tsx scripts/run-local.ts

demo: deps proto ## The platform's main job, locally (see README)
	tsx scripts/demo.ts $(ARGS)

images: ## Build container images (needs a Docker engine)
	scripts/build-images.sh

.PHONY: help deps infra proto build lint format test test-unit test-integration test-k8s test-e2e \
	store-up store-down cluster-up cluster-down run demo images
