"""Owns the portal's Tornado handlers: one module per concern, each ending with its routes."""
