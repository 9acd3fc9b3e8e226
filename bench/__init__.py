"""Benchmarks (never timed tests): `python -m bench`, or `make bench`."""
