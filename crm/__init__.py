"""CRM records: customers, contacts, opportunities, follow-ups and the rest of the pipeline."""
