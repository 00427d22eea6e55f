"""CRM area: customers (list, detail, new, follow-ups) and the opportunity board."""
