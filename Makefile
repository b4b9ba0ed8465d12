# Quick start:  make run   (set up and run the service with demo data, SQLite)
#               make test  (the whole test suite; needs PostgreSQL and Redis)
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi

# The browser tests drive Debian's Chromium; the fonts render Tibetan and Chinese in it.
BROWSER_PACKAGES := chromium fonts-noto-core fonts-wqy-microhei
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -y -q --no-install-recommends

.PHONY: install translations browser setup run test chaos

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

run: setup
	$(FLASK) demo serve

browser:
	@dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1 || { \
	  echo "installing $(BROWSER_PACKAGES) for the browser tests"; \
	  $(APT_GET) install $(BROWSER_PACKAGES) >/dev/null || \
	  { $(APT_GET) update >/dev/null && $(APT_GET) install $(BROWSER_PACKAGES) >/dev/null; }; }

test: install browser
	$(PY) -m pytest

# The fault suite (docs/RELIABILITY.md): its own PostgreSQL and Redis, killed and restarted during
# 100,000-recipient fan-outs; not in `make test`. CHAOS_RECIPIENTS=… for a smaller run.
chaos: install
	$(PY) -m pytest -m chaos tests/chaos -p no:cacheprovider
