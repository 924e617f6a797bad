"""The pure domain model of cbp: standard library only."""
