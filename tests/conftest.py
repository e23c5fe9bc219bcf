"""Shared pytest set-up."""

import os

# jupyter_core warns (DeprecationWarning) unless told to use platformdirs paths;
# pytest turns warnings into errors, and every supported jupyter uses these paths.
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
# Headless matplotlib in the test process.
os.environ.setdefault("MPLBACKEND", "Agg")
