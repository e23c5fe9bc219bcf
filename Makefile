# The course's commands. Everything runs inside .venv, which `make lab` and
# `make test` create on first use, so a fresh machine needs only Python 3.11.
#
#   make lab        install into .venv and open JupyterLab on lectures/ (ARGS="--port=9999 --no-browser")
#   make test       ruff + the whole test suite (what CI runs)
#   make bench      print the benchmark figures
#   make exercises  regenerate the student notebooks exercises/ from the instructor's solutions/
#   make grade      autograde submitted/<student>/<assignment>/, then write feedback/ and grades.csv
#                   (in parallel and sandboxed: WORKERS=4 sets the workers, default one per core;
#                   DASK=tcp://host:8786 grades on a Dask cluster instead)
#   make validate   grade the instructor's solutions/ through the judge; fails unless full marks
#   make hub        (root) the course JupyterHub for a class: hub/jupyterhub_config.py, docs/instructors.md
#   make site       build the course website in _site/: every lecture executed, as static HTML
#                   (SITE_ARGS="--binder OWNER/REPO" adds Binder links; see tools/site.py)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: lab test lint bench clean exercises grade validate hub hub-proxy site

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# The server's root is the course directory (instructors see exercises/ and solutions/,
# nbgrader finds nbgrader_config.py); the browser opens on lectures/. .venv/bin goes on
# PATH because nbgrader's formgrader runs `alembic` from PATH to create gradebook.db.
# Jupyter refuses to start as root without --allow-root, and in a container, a CI box or
# a fresh cloud VM the user often is root: pass it then, and say so.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(STAMP)
	$(if $(ALLOW_ROOT),@echo "make lab: running as root; JupyterLab starts with --allow-root")
	PATH="$(abspath $(BIN)):$$PATH" JUPYTER_PLATFORM_DIRS=1 $(BIN)/jupyter lab \
		--ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/lectures \
		$(ALLOW_ROOT) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check nnkit tests benchmarks tools
	$(BIN)/ruff format --check nnkit tests benchmarks tools

# tests/test_hub.py creates Unix accounts and runs PostgreSQL under its own account, so it needs
# root (CI runs as root); anyone else runs everything but those, and is told so.
ROOT_USER := $(filter 0,$(shell id -u))
test: lint $(if $(ROOT_USER),hub-proxy)
	@$(if $(ROOT_USER),,echo "make test: not root, so tests/test_hub.py (Unix accounts, PostgreSQL) is left to CI, which runs as root")
	$(BIN)/python -m pytest $(if $(ROOT_USER),,-m "not hub") $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_mlp.py

# nbgrader starts `alembic` from PATH when it creates gradebook.db, so .venv/bin goes first.
NBGRADER := PATH="$(abspath $(BIN)):$$PATH" JUPYTER_PLATFORM_DIRS=1 $(BIN)/nbgrader

# --force: without it nbgrader silently keeps an existing release.
exercises: $(STAMP)
	$(NBGRADER) generate_assignment "*" --force

# Regenerating the release first keeps gradebook.db in step with solutions/.
# nnkit.autograde runs nbgrader's autograde on WORKERS shards of students at once, each kernel
# in a bubblewrap sandbox, and merges the shards into gradebook.db (docs/instructors.md);
# grades.csv gets two more columns, status and flags, and grading-report.md says why.
# Each step stands alone: a student whose feedback nbgrader cannot write (it then exits 1) is
# named in the summary and the CSV is written all the same, in full (export goes to a temporary
# file first). `make grade` fails only when the batch itself could not run: no submissions,
# autograding or the export stopped.
WORKERS ?=
DASK ?=
GRADE_FEEDBACK_LOG := grading-feedback.log
grade: exercises
	@test -d submitted || { echo "make grade: no submitted/<student>/<assignment>/ to grade"; exit 1; }
	$(BIN)/python -m nnkit.autograde grade --force $(if $(WORKERS),--workers $(WORKERS)) \
		$(if $(DASK),--dask $(DASK))
	@echo '$(NBGRADER) generate_feedback "*" --force > $(GRADE_FEEDBACK_LOG)'
	@$(NBGRADER) generate_feedback "*" --force > $(GRADE_FEEDBACK_LOG) 2>&1 \
		|| echo "make grade: generate_feedback stopped on some notebooks (see $(GRADE_FEEDBACK_LOG))"
	$(NBGRADER) export --exporter=nnkit.autograde.report.CsvWithFlags --to grades.csv.partial
	@mv grades.csv.partial grades.csv
	@echo "make grade: grades.csv written; grading-report.md lists every flag"
	@grep -E '^### .* \((failed|not gradable)\)$$' grading-report.md 2>/dev/null \
		| sed 's/^### /  no grade: /; s/\\//g' || true
	@sed -n "s/.*There was an error processing assignment '\(.*\)' for student '\(.*\)'.*/  no feedback: \2 \/ \1/p" \
		$(GRADE_FEEDBACK_LOG) || true

# Hidden tests run only in the judge, so the solutions are validated by grading them
# (in a copy of the course); exits 1 unless every solution gets full marks.
validate: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m nnkit.autograde validate

# The course hub's proxy, configurable-http-proxy from npm, pinned by hub/package-lock.json
# into hub/node_modules (tests/test_hub.py needs it too, hence `test: hub-proxy`).
hub-proxy: hub/node_modules/.installed

hub/node_modules/.installed: hub/package.json hub/package-lock.json
	cd hub && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The course JupyterHub, run as root (it starts each person's server as that Unix user).
# Settings come from NNKIT_* variables (hub/jupyterhub_config.py lists them); the exchange
# directory is created world-writable and sticky, as nbgrader's exchange needs.
HUB_EXCHANGE ?= /srv/nbgrader/exchange
hub: $(STAMP) hub-proxy
	install -d -m 1777 $(HUB_EXCHANGE)
	@# the course environment is world-readable; the answer key and the solutions must not be
	chmod -R o-rwx grader solutions
	NNKIT_EXCHANGE=$(HUB_EXCHANGE) $(BIN)/jupyterhub -f hub/jupyterhub_config.py $(ARGS)

# nbconvert + tools/site.py, not jupyter-book: see the docstring of tools/site.py.
SITE_ARGS ?=
site: $(STAMP)
	$(BIN)/python tools/site.py --out _site $(SITE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache _site
