"""Web-free serving core: batching, model host, routing and rate limits (protocols live elsewhere)."""
