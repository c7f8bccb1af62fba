# The two commands a newcomer needs: `make demo` and `make test` (and `make serve` for the clinic page).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO_OUT ?= runs/demo

.PHONY: setup demo test lint clean serve

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU build. Any looser spec pulls GBs of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[sim,c3d,stats,dev,serve,distributed]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: setup
	$(BIN)/gait2hip benchmark --data default --profile quick --out $(DEMO_OUT)

# The clinic service on the embedded default bundles: http://127.0.0.1:8000/ (token printed on first start)
serve: setup
	$(BIN)/gait2hip serve --host 127.0.0.1 --port 8000 --model default

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check gait2hip tests
	$(BIN)/ruff format --check gait2hip tests

clean:
	rm -rf $(VENV) runs .pytest_cache
