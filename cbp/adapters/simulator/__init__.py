"""A payment processor simulator with deterministic outcomes."""
