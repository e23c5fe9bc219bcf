"""Shared pytest set-up."""

import os

import pytest

# jupyter_core warns (DeprecationWarning) unless told to use platformdirs paths;
# pytest turns warnings into errors, and every supported jupyter uses these paths.
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
# Headless matplotlib in the test process.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def browser_executable() -> str:
    """The Chromium the browser tests drive (tests/browser/lab.py: found, or installed as root)."""
    from tests.browser.lab import BrowserUnavailableError, find_browser

    try:
        return find_browser()
    except BrowserUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
