"""The web edge: the Flask app factory, the JSON API under /api/v1, authentication, HTTP errors."""
