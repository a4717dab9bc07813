"""Owns Swarm mode (DOCKER_SWARM=1): labs as Swarm services pinned to their volumes' node.
"""
