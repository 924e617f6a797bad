"""The wall clock and time-ordered ids of a running process."""
