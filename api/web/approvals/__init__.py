"""Approvals area: my task list, the task page and its actions, starting a request, my requests, an instance."""
