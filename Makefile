# Two commands for a fresh machine: `make demo` and `make test` (both build .venv/ when missing).
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.deps-installed
# The oldest supported and the newest tested Prowler, from their one place: selftest.TESTED.
TESTED_VERSIONS := $(shell sed -n 's/^TESTED = (Version("\([^"]*\)"), Version("\([^"]*\)"))$$/\1 \2/p' src/prowler_vpc_flow_logs/selftest.py)
$(if $(word 2,$(TESTED_VERSIONS)),,$(error cannot read TESTED from src/prowler_vpc_flow_logs/selftest.py))
PROWLER_VERSION := $(word 2,$(TESTED_VERSIONS))
PROWLER := prowler==$(PROWLER_VERSION)

# The oldest supported Prowler, in a venv of its own with pins of its own (make test-compat).
OLDEST     := $(word 1,$(TESTED_VERSIONS))
OLD_VENV   := .venv-prowler-$(basename $(OLDEST))
OLD_PY     := $(OLD_VENV)/bin/python
OLD_PINS   := constraints-prowler-$(basename $(OLDEST)).txt
OLD_STAMP  := $(OLD_VENV)/.deps-installed

# A user's venv per Prowler end, holding Prowler alone: the wheel test installs the built wheel
# there as the README says, and leaves the venv as it found it (tests/test_e2e_wheel.py).
USER_VENV     := .venv-user-$(PROWLER_VERSION)
OLD_USER_VENV := .venv-user-$(OLDEST)

.PHONY: test test-main test-compat demo bench lint plugin plugin-oldest mutants

# Prowler (about 2.4 GB) and the test tools, pinned together by constraints.txt; paid once per machine.
$(STAMP): constraints.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt "$(PROWLER)" "moto[server]" pytest pytest-xdist ruff matplotlib
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

# The whole suite on the newest tested Prowler, then the compat part on the oldest supported.
# pytest-xdist runs TEST_WORKERS tests at a time; tests marked xdist_group share a worker (and
# so their module's fixtures), in the order conftest.py gives; Prowler's installed tree is locked
# across workers (tests/support.py).
# PYTEST_ARGS adds options, e.g. PYTEST_ARGS=--durations=15.
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

test: test-main test-compat

test-main: plugin lint $(USER_VENV)/.prowler-installed
	PROWLER_UNDER_TEST=$(PROWLER_VERSION) PROWLER_USER_VENV=$(USER_VENV) $(VENV)/bin/pytest -q $(XDIST)

$(USER_VENV)/.prowler-installed: constraints.txt
	test -x $(USER_VENV)/bin/python || python3 -m venv $(USER_VENV)
	$(USER_VENV)/bin/python -m pip install --quiet -c constraints.txt "$(PROWLER)"
	touch $@

$(OLD_USER_VENV)/.prowler-installed: $(OLD_PINS)
	test -x $(OLD_USER_VENV)/bin/python || python3 -m venv $(OLD_USER_VENV)
	$(OLD_USER_VENV)/bin/python -m pip install --quiet -c $(OLD_PINS) "prowler==$(OLDEST)"
	touch $@

# Prowler $(OLDEST), moto, pytest and pytest-xdist, pinned by their own constraints file.
$(OLD_STAMP): $(OLD_PINS)
	test -x $(OLD_PY) || python3 -m venv $(OLD_VENV)
	$(OLD_PY) -m pip install --quiet --upgrade pip
	$(OLD_PY) -m pip install --quiet -c $(OLD_PINS) "prowler==$(OLDEST)" "moto[server]" pytest pytest-xdist
	touch $(OLD_STAMP)

# The plug-in editable, with its dependencies resolved as a user's pip would: Prowler must stay.
$(OLD_VENV)/.plugin-editable: $(OLD_STAMP) pyproject.toml
	$(OLD_PY) -m pip install --quiet -c $(OLD_PINS) -e .
	touch $@

plugin-oldest: $(OLD_VENV)/.plugin-editable
	$(OLD_VENV)/bin/vpc-flow-logs install

# The end-to-end tests and the probes of Prowler's internals, on the oldest supported Prowler;
# then the built wheel in a user's venv that holds that Prowler.
test-compat: plugin-oldest $(EDITABLE) $(OLD_USER_VENV)/.prowler-installed
	PROWLER_UNDER_TEST=$(OLDEST) $(OLD_VENV)/bin/pytest -q $(XDIST) -m "e2e or compat"
	PROWLER_USER_VENV=$(OLD_USER_VENV) $(VENV)/bin/pytest -q -m wheel

demo: plugin
	$(PY) -m devtools.demo

bench: plugin
	$(PY) -m devtools.bench $(BENCH_ARGS)
	$(PY) -m devtools.bench_org $(BENCH_ORG_ARGS)

# Break each promise of the matrix in the source (one line at a time); every mutant must be caught.
mutants: plugin
	$(PY) -m devtools.mutants $(MUTANTS)
