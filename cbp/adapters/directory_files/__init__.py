"""Directory data from files (CSV, JSON) and a synthetic directory generator."""
