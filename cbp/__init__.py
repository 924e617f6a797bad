"""cbp: a Consumer Bill Payment engine with a pure core and pluggable adapters."""
