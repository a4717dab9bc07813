"""Owns the rules the hub keeps over labs: limits, usage, idle culling, GPUs, labs that ended.
"""
