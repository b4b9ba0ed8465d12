# Quick start:  make run   (set up and run the service with demo data, SQLite)
#               make test  (the whole test suite; needs PostgreSQL and Redis)
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi

.PHONY: install setup run test

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

setup: install
	$(FLASK) db upgrade
	$(FLASK) seed regions
	$(FLASK) seed demo

run: setup
	$(FLASK) demo serve

test: install
	$(PY) -m pytest
