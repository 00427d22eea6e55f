"""HTTP API: Flask app factory, blueprints, auth, problem+json errors, CLI."""
