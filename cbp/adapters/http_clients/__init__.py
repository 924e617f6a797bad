"""Outbound HTTP clients: the processor, the verifier, SMS and webhooks."""
