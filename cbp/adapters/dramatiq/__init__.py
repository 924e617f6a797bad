"""Dramatiq on RabbitMQ, Redis or in-process: the broker that carries deliveries."""
