"""What the container builds adapters from: secrets, connections, outside dependencies."""
