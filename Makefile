# The two commands a newcomer needs: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The tests also run the batch on a local Ray cluster (the scale extra) and test the training recipe (the train
# extra: torch, CPU build), neither of which the app itself needs.
SCALE_STAMP := $(VENV)/.installed-scale

.PHONY: run test lint mutate train-env installer clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(SCALE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,scale,train]'
	touch $(SCALE_STAMP)

run: $(STAMP)
	$(BIN)/qa-reader

test: $(SCALE_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest
	$(BIN)/lint-imports

lint: $(STAMP)
	$(BIN)/ruff check qa_reader tests packaging

# Mutation testing of the Qt-free core (mutmut), a module at a time with that module's tests, each module's
# verdicts kept in build/mutate/ so that a second run tests only what changed; not part of `make test`.
# MODULES="passages store" picks modules, MINUTES bounds each one (a later run goes on where it stopped).
MUTATE_STAMP := $(VENV)/.mutate-installed
MINUTES ?= 20

$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	touch $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP)
	nice -n 10 $(BIN)/python -m tests.mutate --minutes $(MINUTES) $(MODULES)

# The installer for the system it runs on, in dist/ (see packaging/). On Linux: the .deb, then installed,
# self-tested, started under Xvfb for a screenshot and removed again; not part of `make test`.
UNAME := $(shell uname -s)
PLATFORM := $(if $(filter Darwin,$(UNAME)),macos,$(if $(filter MINGW% MSYS% CYGWIN%,$(UNAME)),windows,linux))

installer:
	bash packaging/$(PLATFORM)/build.sh

train-env: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[train]'

clean:
	rm -rf $(VENV) build dist *.egg-info
