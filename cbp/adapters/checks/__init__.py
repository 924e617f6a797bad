"""Checks: issued from a register, printed by the bank's vendor, guarded by Positive Pay."""
