"""The inbound HTTP adapter: a Falcon WSGI app over the use cases."""
