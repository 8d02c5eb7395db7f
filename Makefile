# Common tasks. `make help` lists them. CARGO=... runs another cargo (e.g. a wrapper).
CARGO ?= cargo
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
RELEASE_BIN := $(or $(CARGO_TARGET_DIR),target)/release/techtransfer

.PHONY: help run seed admin test test-pg test-system-pg fmt lint check-reuse check release \
        openapi bench-search bench-match bench-stats bench-vouchers docker-up docker-seed ci

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

run: ## serve on http://127.0.0.1:8080 (SQLite in data/, mail in data/mail/)
	$(CARGO) run

seed: ## fill an empty local database with the demo data set
	$(CARGO) run -- seed-demo

admin: ## create an administrator: make admin EMAIL=a@b.cn PASSWORD='a-long-password'
	$(CARGO) run -- create-admin --email '$(EMAIL)' --password '$(PASSWORD)'

test: ## the whole suite on SQLite
	TT_TEST_BACKEND=sqlite $(CARGO) test

test-pg: ## the whole suite on PostgreSQL (PG_URL), plus the scale-out system test
	TT_TEST_BACKEND=postgres TT_TEST_PG_URL=$(PG_URL) $(CARGO) test
	TT_TEST_BACKEND=postgres TT_TEST_PG_URL=$(PG_URL) $(CARGO) test --test system -- --ignored --skip postgres_restart

fmt: ## format the code
	$(CARGO) fmt

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

check-reuse: ## `cargo test` after `cargo build` must compile no dependency again
	python3 .ci/test-build-reuse.py

check: lint check-reuse test ## what to run before a commit

release: ## the release binary the Dockerfile builds (TLS to PostgreSQL needs libssl-dev)
	$(CARGO) build --release --locked --features pg-tls --bin techtransfer
	@ls -l $(RELEASE_BIN)

openapi: ## write the OpenAPI document to openapi.json
	$(CARGO) run --quiet -- openapi > openapi.json

bench-search: release ## search benchmark (short run)
	$(RELEASE_BIN) bench search --sizes 10000 --queries 500

bench-match: release ## matching speed benchmark (short run)
	$(RELEASE_BIN) bench match --sizes 10000,100000 --queries 200

bench-stats: release ## /admin/stats aggregation latency on SQLite (short run)
	$(RELEASE_BIN) bench stats --backend sqlite --listings 20000 --contracts 2000 --runs 10

bench-vouchers: release ## voucher approvals/s on PostgreSQL (PG_URL)
	$(RELEASE_BIN) bench vouchers --pg $(PG_URL) --applications 500 --clients 8

docker-up: ## build and start the compose stack (needs .env: cp .env.example .env)
	docker compose up --build -d

docker-seed: ## seed the demo data set into the compose stack's database
	docker compose exec app techtransfer seed-demo

ci: ## what CI runs (stops and starts the local PostgreSQL!)
	bash .ci/run
