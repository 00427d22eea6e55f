"""The admin console (administrators only): instances and incidents, the audit trail, users, departments and
groups, API keys and webhooks. Each page calls the same engine and domain functions as the v1 API."""
