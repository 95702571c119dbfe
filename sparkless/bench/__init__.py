"""Benchmarks run from the command line (``sparkless bench …``); not tests, no thresholds."""
