# The course's commands. Everything runs inside .venv, which `make lab` and
# `make test` create on first use, so a fresh machine needs only Python 3.11.
#
#   make lab        install into .venv and open JupyterLab on lectures/ (ARGS="--port=9999 --no-browser")
#   make test       ruff + the whole test suite (what CI runs)
#   make bench      print the benchmark figures
#   make exercises  regenerate the student notebooks exercises/ from the instructor's solutions/
#   make grade      autograde submitted/<student>/<assignment>/, then write feedback/ and grades.csv
#                   (in parallel and sandboxed: WORKERS=4 sets the workers, default one per core)
#   make validate   run the instructor's solutions/ through nbgrader's validator; fails if a test fails
#   make site       build the course website in _site/: every lecture executed, as static HTML
#                   (SITE_ARGS="--binder OWNER/REPO" adds Binder links; see tools/site.py)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: lab test lint bench clean exercises grade validate site

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

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
WORKERS ?=
grade: exercises
	@test -d submitted || { echo "make grade: no submitted/<student>/<assignment>/ to grade"; exit 1; }
	$(BIN)/python -m nnkit.autograde grade --force $(if $(WORKERS),--workers $(WORKERS))
	$(NBGRADER) generate_feedback "*" --force
	$(NBGRADER) export --exporter=nnkit.autograde.report.CsvWithFlags --to grades.csv

# `nbgrader validate` exits 0 even when a test fails; this exits 1.
validate: $(STAMP)
	$(BIN)/python -m nnkit.grading validate solutions/*/*.ipynb

# nbconvert + tools/site.py, not jupyter-book: see the docstring of tools/site.py.
SITE_ARGS ?=
site: $(STAMP)
	$(BIN)/python tools/site.py --out _site $(SITE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache _site
