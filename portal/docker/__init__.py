"""Owns the one path to Docker: every call to an engine, async, pooled and bounded, and its words.

Absolute `import docker` inside this package is docker-py (no implicit relative imports); the
portal's own modules here are reached as `portal.docker.*` or relatively.
"""
