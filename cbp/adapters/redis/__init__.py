"""Redis adapters: the shared cache and rate limits of a multi-process deployment."""
