# Quick start:  make run   (set up and run the service with demo data, SQLite)
#               make test  (lint-imports, then the whole test suite; needs PostgreSQL and Redis)
#               make bench (the benchmarks of docs/BENCHMARKS.md, about 75 minutes; needs both too)
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi

# The browser tests drive Debian's Chromium; the fonts render Tibetan and Chinese in it and in the
# PDF reports, which WeasyPrint lays out with Pango; the PDF tests read them with poppler-utils.
BROWSER_PACKAGES := chromium fonts-noto-core fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -y -q --no-install-recommends

.PHONY: install translations browser faketime sentinel failover-tools setup run lint test test-future bench chaos chaos-ha chaos-ha-clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# The console's message catalogs (.po, committed) compiled for Flask-Babel (.mo, not committed).
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d warning_service/translations >/dev/null 2>&1

install: $(VENV)/.installed translations

setup: install
	$(FLASK) db upgrade
	$(FLASK) seed regions
	$(FLASK) seed demo
	@# the key the workers sign the ledger's head with (docs/OPERATIONS.md); made once, never overwritten
	@[ -n "$$AUDIT_SIGNING_KEY" ] || [ -f instance/audit-signing-key.pem ] || $(FLASK) audit generate-key

run: setup
	$(FLASK) demo serve

browser:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { \
	  echo "installing $(BROWSER_PACKAGES) for the browser tests"; \
	  $(APT_GET) install $(BROWSER_PACKAGES) >/dev/null || \
	  { $(APT_GET) update >/dev/null && $(APT_GET) install $(BROWSER_PACKAGES) >/dev/null; }; }

# The layers of pyproject.toml (docs/ARCHITECTURE.md): no import across them upwards, no cycle.
lint: install
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/mypy

# Debian's redis-sentinel, for the tests of Redis failover (tests/ha: they start their own master, replica and
# three sentinels on free ports; the package's own service is left alone).
sentinel:
	@command -v redis-sentinel >/dev/null || { echo "installing redis-sentinel for the failover tests"; \
	  $(APT_GET) install redis-sentinel >/dev/null || { $(APT_GET) update >/dev/null && $(APT_GET) install redis-sentinel >/dev/null; }; }

# Debian's pg_auto_failover and haproxy, for `make chaos-ha` (it starts its own monitor, nodes and haproxy in
# network namespaces; the packages' own services are left alone).
failover-tools:
	@command -v pg_autoctl >/dev/null && command -v haproxy >/dev/null || { \
	  echo "installing postgresql-15-auto-failover and haproxy for the two-site fault suite"; \
	  $(APT_GET) install postgresql-15-auto-failover haproxy >/dev/null || \
	  { $(APT_GET) update >/dev/null && $(APT_GET) install postgresql-15-auto-failover haproxy >/dev/null; }; }

# lint first: a broken layer fails in seconds, before the browser install and the suite.
test: install lint browser sentinel
	$(PY) -m pytest

# Debian's libfaketime, for the time-shifted run below.
faketime:
	@command -v faketime >/dev/null || { echo "installing faketime for the time-shifted tests"; \
	  $(APT_GET) install faketime >/dev/null || { $(APT_GET) update >/dev/null && $(APT_GET) install faketime >/dev/null; }; }

# The API, intake and console tests again with the wall clock FUTURE_DAYS ahead, so that a date fixed in
# a test, a fixture or the demo cannot pass today and fail later. The monotonic clock is left alone
# (else kernel timeouts hang); tests/faketime/sitecustomize.py works around libfaketime's sleep bug.
FUTURE_DAYS ?= 400
test-future: install browser faketime
	PYTHONPATH=tests/faketime DONT_FAKE_MONOTONIC=1 faketime -f +$(FUTURE_DAYS)d \
	  $(PY) -m pytest -p no:cacheprovider tests/api tests/intake tests/console

# The commands of docs/BENCHMARKS.md, each printing its summary table; bench/*.py --quick for a smoke run.
bench: install
	$(PY) bench/fanout.py --recipients 1780000 --runs 3 --batch-size 2000
	$(PY) bench/fanout_peers.py --runs 3 --counties 513338
	$(PY) bench/intake.py --runs 3
	$(PY) bench/earthquake.py --runs 3 --posts 30
	$(PY) bench/earthquake.py --runs 3 --posts 10 --under-fanout
	$(PY) bench/earthquake.py --runs 3 --posts 10 --under-fanout --critical-workers 1
	$(PY) bench/smpp.py --runs 3 --county-platforms
	$(PY) bench/twilio.py --runs 3 --workers 3 --in-flight 70
	$(PY) bench/cell_broadcast.py --runs 3 --posts 20 --recipients 100000 --database ews_bench_smpp

# The fault suite (docs/RELIABILITY.md): its own PostgreSQL and Redis, killed and restarted during
# 100,000-recipient fan-outs; not in `make test`. CHAOS_RECIPIENTS=… for a smaller run.
chaos: install
	$(PY) -m pytest -m chaos tests/chaos -p no:cacheprovider

# Losing one machine of the two-site deployment (docs/RELIABILITY.md): hosts in network namespaces (root only),
# pg_auto_failover, Redis with Sentinel, two app hosts behind haproxy, during 100,000-recipient fan-outs; not in
# `make test`. CHAOS_RECIPIENTS=… for a smaller run; `make chaos-ha-clean` removes what a killed run left.
chaos-ha: install sentinel failover-tools
	$(PY) -m pytest -m chaos tests/chaos_ha -p no:cacheprovider

chaos-ha-clean: install
	$(PY) -m tests.chaos_ha.topology down
