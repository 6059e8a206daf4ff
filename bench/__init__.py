"""Benchmarks with targets: `make bench` prints one table. Each module has `run() -> list[dict]`."""
