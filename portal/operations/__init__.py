"""Owns what is happening to each user's server: action names, operations in flight, who is told.

Below the services that act on servers: they all record and read their work here, and the
portal's event streams hear of every change from here.
"""
