"""The set-up files agree with each other."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pinned(requirements):
    """{name: version} from 'name==version' strings, names normalised."""
    pins = {}
    for req in requirements:
        name, _, version = req.partition("==")
        assert version, f"pyproject.toml: '{req}' is not pinned with =="
        pins[re.sub(r"[-_.]+", "-", name.strip().lower())] = version.strip()
    return pins


def test_environment_yml_matches_pyproject():
    """environment.yml pins the same versions as pyproject.toml for every package it lists."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = pinned(project["dependencies"])
    conda = {}
    pip_lines = []
    in_pip = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("- pip:"):
            in_pip = True
        elif in_pip and stripped.startswith("- "):
            pip_lines.append(stripped[2:])
        elif stripped.startswith("- ") and "=" in stripped:
            name, _, version = stripped[2:].partition("=")
            conda[re.sub(r"[-_.]+", "-", name.lower())] = version
    assert conda.pop("python") == "3.11"
    pip_pins = pinned([line for line in pip_lines if "==" in line])
    listed = conda | pip_pins
    assert listed == pins, "environment.yml and pyproject.toml disagree"
    assert "-e ." in pip_lines, "environment.yml must install nnkit itself with `pip: -e .`"


def test_ci_runs_the_readme_test_command():
    """.ci/run calls `make test`, the command README gives for the whole suite."""
    assert "make test" in (ROOT / "README.md").read_text()
    assert "make test" in (ROOT / ".ci" / "run").read_text()
