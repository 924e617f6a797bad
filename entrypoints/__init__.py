"""Composition roots that run processes: the ``cbp`` command line."""
