"""In-memory fakes for every port: for unit tests and for embedders."""
