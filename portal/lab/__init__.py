"""Owns the lab containers: the spawner, the names and mounts of their volumes, where they live.

The only part that knows Docker object names; given what it may ask by `portal.setup(c)`.
"""
