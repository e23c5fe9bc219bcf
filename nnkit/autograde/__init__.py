"""Autograding a whole class: parallel shards, sandboxed kernels, tamper-proof checks."""
