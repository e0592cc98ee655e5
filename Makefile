# Every target bootstraps .venv itself: on a fresh clone `make demo` and `make test` are all the set-up there is.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv pip install --quiet --python $(BIN)/python
# Quiet, hermetic notebook and progress settings for tests and benchmarks.
TMPJ   := $(CURDIR)/.venv/tmp-jupyter
TESTENV := TQDM_DISABLE=1 JUPYTER_CONFIG_DIR=$(TMPJ)/config JUPYTER_DATA_DIR=$(TMPJ)/data \
           JUPYTER_RUNTIME_DIR=$(TMPJ)/runtime IPYTHONDIR=$(TMPJ)/ipython MPLBACKEND=Agg

.PHONY: demo test bench lab install install-test chromium clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: pyproject.toml | $(BIN)/uv
	$(UV) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/uv
	# The official SDK is byte-compiled at install: without .pyc files every import of it costs ~40 s.
	$(UV) --compile-bytecode -e '.[dev,e2e,sdk]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test chromium

# The browser test drives Debian's Chromium; a browser is never downloaded.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

demo: $(VENV)/.installed
	$(BIN)/python -m genesys_nb.demo

test: install-test
	$(BIN)/python -m mypy
	mkdir -p $(TMPJ)
	$(TESTENV) $(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	mkdir -p $(TMPJ)
	$(TESTENV) $(BIN)/python -m benchmarks
	$(TESTENV) $(BIN)/python benchmarks/sandbox_rss.py

lab: $(VENV)/.installed
	$(UV) -e '.[lab]'
	# JupyterLab refuses to run as root unless told to (as on these machines).
	$(BIN)/jupyter lab notebooks/ $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

clean:
	rm -rf $(VENV) .bench demo-output test-artifacts .pytest_cache .hypothesis
