"""Benchmarks: `python -m cortex.bench NAME`, one module per bench (see `__main__`)."""
