"""Persistence ports: the event store, the repositories and the unit of work, a module per group."""
