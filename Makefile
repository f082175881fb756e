# Two commands for a fresh machine: `make demo` and `make test` (both build .venv/ when missing).
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.deps-installed
PROWLER := prowler==5.46.0

.PHONY: test demo bench lint plugin mutants

# Prowler (about 2.4 GB) and the test tools, pinned together by constraints.txt; paid once per machine.
$(STAMP): constraints.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt "$(PROWLER)" "moto[server]" pytest ruff matplotlib
	touch $(STAMP)

EDITABLE := $(VENV)/.plugin-editable

# The plug-in as an editable install: the venv imports every module from this checkout,
# so an edit shows up in pytest, the demo and prowler without reinstalling.
$(EDITABLE): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(EDITABLE)

# Activate the check in Prowler: `install` copies checks/vpc_flow_logs_enabled/ into Prowler's
# tree (Prowler loads the check only from there), so this runs every time.
plugin: $(EDITABLE)
	$(VENV)/bin/vpc-flow-logs install

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: plugin lint
	$(VENV)/bin/pytest -q

demo: plugin
	$(PY) -m devtools.demo

bench: plugin
	$(PY) -m devtools.bench $(BENCH_ARGS)
	$(PY) -m devtools.bench_org $(BENCH_ORG_ARGS)

# Break each promise of the fault matrix in the installed plug-in; every mutant must be caught.
mutants: plugin
	$(PY) -m devtools.mutants $(MUTANTS)
