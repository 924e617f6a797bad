"""The use cases of cbp: commands, their handlers, and queries."""
