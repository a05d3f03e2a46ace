# Overshare. The README shows two commands for a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
PG_DSN ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
export OVERSHARE_TEST_DATABASE_URL ?= $(PG_DSN)

.PHONY: bench-sync build demo test test-go vet pg-up generate check-generated bench-graphsim frontend frontend-codegen test-frontend test-e2e chromium frontend-smoke frontend-size bench-ui

build: frontend
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/overshare ./cmd/overshare

# The main job: everything in one process (SQLite, the simulated tenant, the
# development OIDC provider, the server). demo.json in ./data says how to log in.
demo: build
	./bin/overshare demo

# Everything CI runs.
test: pg-up check-generated vet test-go test-frontend test-e2e

vet: frontend
	$(GO) vet ./...

test-go: frontend
	$(GO) test -race -count=1 -timeout 30m -json ./... | $(GO) run ./internal/testsummary

# The tests use the machine's PostgreSQL; start it when it is installed but stopped.
pg-up:
	@if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n1) main start; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	fi
	@pg_isready -h 127.0.0.1 -p 5432

# Generated code from schema.graphqls: the server's (gqlgen, gqlgen.yml) and the dashboard's types.
generate: frontend-codegen
	$(GO) run github.com/99designs/gqlgen generate

GENERATED := graph/ frontend/src/gql/
# Fails when the committed generated code differs from what the schema produces.
check-generated: generate
	@git diff --exit-code -- $(GENERATED) || { echo "generated GraphQL code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- $(GENERATED))" || { git status --short -- $(GENERATED); echo "make generate left uncommitted files"; exit 1; }

bench-graphsim:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./graphsim/...

# The dashboard. dist/ is embedded by frontend/frontend.go, so building cmd/overshare, vet and
# the Go tests need it; of the benchmarks only bench-sync does (it runs the overshare binary).
# npm ci runs when node_modules is missing or package-lock.json is newer than the install.
frontend/node_modules/.package-lock.json: frontend/package-lock.json frontend/package.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

frontend: frontend/node_modules/.package-lock.json
	cd frontend && npm run build

# Regenerates the SPA's GraphQL types from schema.graphqls (the output is committed).
frontend-codegen: frontend/node_modules/.package-lock.json
	cd frontend && npm run codegen

test-frontend: frontend/node_modules/.package-lock.json
	cd frontend && npm test -- --run

# Debian's Chromium for the browser tests; no test tool downloads a browser of its own.
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

# The built SPA renders in headless Chromium (no backend: stub config, sign-in error screen).
frontend-smoke: frontend chromium
	cd frontend && node e2e/smoke.mjs

# gzip KB of the JavaScript a first visit loads; fails above 350 KB.
frontend-size: frontend
	cd frontend && node scripts/bundle-size.mjs

# Bundle size, then (with DEMO_JSON=<data-dir>/demo.json of a running demo) the time to the
# first Shared files row and scrolling frame times.
bench-ui: frontend-size chromium
	@if [[ -n "$${DEMO_JSON:-}" ]]; then cd frontend && node e2e/bench-ui.mjs "$$DEMO_JSON"; \
	else echo "set DEMO_JSON=<data-dir>/demo.json of a running overshare demo to time the first row"; fi

# End-to-end tests in headless Chromium against `overshare demo` (started and stopped here).
test-e2e: build chromium
	frontend/e2e/with-demo.sh ./bin/overshare

# The sync engine on a ~1,000,000-item tenant (1,000 users, 5% shared) into
# PostgreSQL, the naive approach on a smaller tenant, and a run under a
# 1,250 RU/minute budget. The simulator runs as its own process.
bench-sync: pg-up frontend
	$(GO) test -run '^$$' -bench 'BenchmarkSync' -benchtime 1x -timeout 60m ./syncer/

# Bulk upsert of drive_items and permissions: COPY, unnest and gorm on
# PostgreSQL, gorm on SQLite; 100k rows in one batch and in pages of 200.
.PHONY: bench-store
bench-store: pg-up
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./store/

# The GraphQL API on 1,000,000 drive items in PostgreSQL (database overshare_bench_api, seeded
# with COPY on first use and kept; BENCH_API_RESEED=1 rebuilds it): the real server with a
# development-provider token, driveItems(sharedScope:[ANONYMOUS], first:100) under 32 clients,
# with and without totalCount; prints p50/p99 and requests/s. Then the floor: the same page over
# HTTP with the token checked and the same two statements, encoded by encoding/json without
# GraphQL, the bound this machine puts on any API over this database. BENCH_API_REQUESTS sets the
# count.
.PHONY: bench-api
bench-api: pg-up
	$(GO) test -run '^$$' -bench 'BenchmarkDriveItems(Anonymous|Floor)' -benchtime 1x -timeout 60m ./internal/benchapi/
