"""Built-in connectors the app factory registers as service-task operations."""
