"""JSON-Schema forms for start events and user tasks, and validation of submitted data."""
