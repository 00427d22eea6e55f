"""CRM tables (customers, opportunities, ...) arrive with the records issue; this module registers them."""
