"""Maintainers' scripts, not part of the nnkit package: the course website's builder."""
