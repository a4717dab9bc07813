"""Owns the server actions (start, stop, restart, re-create) and the server card's view-model.
"""
