"""Account verification by rules alone: checksums and biller masks."""
