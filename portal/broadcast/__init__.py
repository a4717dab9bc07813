"""Owns broadcasts into running labs: what may be sent, to whom, with which token, the results.
"""
