"""Benchmarks against the real stack (hub, proxy, Docker). They print figures; nothing asserts.

See docs/benchmarks.md for the latest figures and the command of each benchmark.
"""
