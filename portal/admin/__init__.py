"""Owns the admin's work on accounts: the user table, bulk actions, new accounts, sign-ups.
"""
