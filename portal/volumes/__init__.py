"""Owns a user's own volumes as the portal offers them: listing, resetting, and the archive.
"""
