# The one list of commands. `make run` and `make test` set up everything they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      ?= .venv
BIN       := $(VENV)/bin
PY        := $(BIN)/python
RASA      := $(PY) -m rasa
# Python 3.10 (rasa 3.6 needs it): python3.10 on PATH, else pyenv's.
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10; do \
                 $$p -c 'import sys; assert sys.version_info[:2]==(3,10)' 2>/dev/null && { echo $$p; break; }; done)

export ASSISTANT_ENV          ?= dev
export ASSISTANT_DATABASE_URL ?= sqlite:///$(CURDIR)/var/assistant.db
export ASSISTANT_ACTION_ENDPOINT ?= http://127.0.0.1:5055/webhook
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL   := 2
export PYTHONWARNINGS         ?= ignore::DeprecationWarning

TRAIN_INPUTS := config.yml domain.yml $(wildcard nlu_data/*.yml) $(wildcard stories/*.yml) build/spacy-en/meta.json

.PHONY: help lint run test bench train validate nlu spacy db install assets oidc-provider clean purge test-unit test-conversations test-e2e browser-deps

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is needed (rasa 3.6): install it (e.g. pyenv install 3.10)"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel "setuptools<70"
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed assets ## Create the virtual environment and install everything

# GOV.UK Frontend and MoJ Frontend (and axe-core for the accessibility tests) from the npm
# registry, exactly as package-lock.json says; their built files are served at /assets.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

build/assets/.built: node_modules/.installed
	rm -rf build/assets && mkdir -p build/assets/images
	cp -R node_modules/govuk-frontend/dist/govuk/assets/. build/assets/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js build/assets/
	cp -R node_modules/@ministryofjustice/frontend/moj/assets/images/. build/assets/images/
	cp node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.css node_modules/@ministryofjustice/frontend/moj/moj-frontend.min.js build/assets/
	touch $@

assets: build/assets/.built ## Install the design systems' packages (npm ci) and build the web app's /assets

build/spacy-en/meta.json: $(VENV)/.installed assistant/nlp.py
	$(PY) -m assistant build-spacy --force

spacy: build/spacy-en/meta.json ## Build the spaCy pipeline (official packages only)

nlu_data/faq.yml: content/faqs.yml assistant/content.py $(VENV)/.installed
	$(PY) -m assistant nlu

nlu: nlu_data/faq.yml ## Regenerate nlu_data/faq.yml from content/faqs.yml

models/.trained: $(TRAIN_INPUTS) nlu_data/faq.yml
	$(RASA) train --data nlu_data stories --config config.yml --domain domain.yml --out models
	touch $@

train: install spacy models/.trained ## Train the Rasa model if the data changed

validate: install nlu ## Validate the Rasa training data
	$(RASA) data validate --data nlu_data stories --config config.yml --domain domain.yml

db: install ## Migrate the database and load FAQ content (dev: demo users)
	$(PY) -m assistant db upgrade
	$(PY) -m assistant content load
	@if [ "$$ASSISTANT_ENV" = dev ]; then $(PY) -m assistant demo-users; fi

run: install spacy nlu train db ## Set up everything and start the assistant (prints the URL)
	$(PY) -m assistant run

browser-deps: ## Install Debian's chromium and chromium-driver if missing
	@command -v chromedriver >/dev/null && command -v chromium >/dev/null || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; }

# The OpenID Connect provider the single sign-on tests run against (panva's certified
# oidc-provider, Node.js), exactly as tests/oidc/package-lock.json says.
tests/oidc/node_modules/.installed: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund
	touch $@

oidc-provider: tests/oidc/node_modules/.installed ## Install the OpenID Connect provider the single sign-on tests use (npm ci)

test-unit: install spacy nlu oidc-provider ## Unit, action and API tests (SQLite, and PostgreSQL when reachable)
	$(PY) -m pytest -m "not e2e and not browser" -q

test-conversations: train ## Rasa conversation tests (fail on any prediction error)
	$(RASA) test core --stories tests/conversations --model models \
	  --fail-on-prediction-errors --out results/core

test-e2e: train browser-deps oidc-provider ## End-to-end and browser tests against the running stack
	$(PY) -m pytest -m "e2e or browser" -q

lint: install ## ruff over the code and tests
	$(BIN)/ruff check assistant actions tests

test: lint validate test-unit test-conversations test-e2e ## Everything CI runs

# ASSISTANT_BENCH_STABILITY=0 skips the seed spread / one-example swing (five more trainings).
# Load runs (sustained 20/50 users, open loop 10 msg/s, one 300-message conversation; ~5 min):
# ASSISTANT_BENCH_LOAD=0 skips them, ASSISTANT_BENCH_SUSTAINED_SECONDS / _OPEN_SECONDS /
# _GROWTH_MESSAGES shorten them (docs/performance.md).
bench: train db ## Benchmark: FAQ accuracy (dev + held-out), seed spread, latency, throughput and CPU per message under load, training time, memory, masking (alone: python -m assistant bench-masking)
	$(PY) -m assistant bench

purge: install ## Delete reflections older than the retention period
	$(PY) -m assistant purge

clean: ## Remove built artefacts (keeps the database)
	rm -rf build models results .pytest_cache
