"""Helpers for the end-to-end test that drives JupyterLab in headless Chromium."""
