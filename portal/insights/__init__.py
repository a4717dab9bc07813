"""Owns usage over time: rollups of the usage samples, their store, reports and charts."""
