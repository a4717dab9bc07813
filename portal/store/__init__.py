"""Owns the portal's own database: its connection and calls, its tables, its schema's revisions.

Below every part that keeps rows: the tables are declared here (`tables.py`), so the store and
its migrations import nothing above them.
"""
