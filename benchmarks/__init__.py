"""Benchmarks, each run side by side with its reference: ``python -m benchmarks [NAME] [--quick]``."""
