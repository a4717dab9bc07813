"""Owns the one event log: every action by anyone, recorded once, and reading it back.

Every part that acts writes here (`log.py`); the admin's feed and exports read it (`query.py`).
"""
