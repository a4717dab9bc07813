"""Owns what every part of the portal stands on: settings, errors, logs, tasks, hub internals.

The bottom layer: it imports no other part of the portal. Also here: the user-name rule (the
settings check names with it), TLS certificates, the logo, the image's health check.
"""
