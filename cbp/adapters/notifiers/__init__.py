"""Notifiers that tell customers: to the log, or by the channel each one chose."""
