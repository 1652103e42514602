"""Benchmarks: each `benchmarks/*_bench.py` has `run() -> list[dict]`; `python -m benchmarks` runs them all."""
