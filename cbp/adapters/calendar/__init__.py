"""Business calendars on the ``holidays`` package."""
