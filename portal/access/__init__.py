"""Owns power over the host: the Docker-access groups, the gate and its table, sudo mode.

Membership of a built-in group hands out the Docker socket; the gate decides, for every route
the hub serves, which request may grant it; sudo mode asks for the password again first.
"""
