"""Adapters to the running system: wall clock, ids, logs, static registry."""
