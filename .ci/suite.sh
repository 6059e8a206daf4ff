#!/usr/bin/env bash
# The linter, then the suite three times over: SQLite, a throwaway PostgreSQL server, then Chromium against the prod build.
set -u
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
run() { echo; echo "== $1"; shift; "$@" || status=1; }

run "lint (ruff, configured in pyproject.toml)" $BIN/ruff check .

run "services and handlers on SQLite" $BIN/python -m pytest -m "not browser" -q

if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  pgdir=$(mktemp -d /tmp/hbb-pg.XXXXXX)
  if url=$($BIN/python -m tests.pg_server start "$pgdir"); then
    run "services and handlers on PostgreSQL" env HBB_TEST_DATABASE_URL="$url" $BIN/python -m pytest -m "not browser" -q
  else
    echo "PostgreSQL 启动失败"; status=1
  fi
  $BIN/python -m tests.pg_server stop "$pgdir"; rm -rf "$pgdir"
else
  echo; echo "== SKIPPED: PostgreSQL suite (PostgreSQL not installed: apt-get install postgresql)"
fi

if [ -x /usr/bin/chromium ]; then
  run "browser tests (Chromium, production build)" $BIN/python -m pytest -m browser -q
else
  echo; echo "== SKIPPED: browser tests (Chromium not installed: apt-get install chromium)"
fi
exit $status
