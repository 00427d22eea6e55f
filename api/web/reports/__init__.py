"""Reports area: the dashboard's server-rendered charts."""
