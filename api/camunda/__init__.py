"""The Camunda 7 REST subset under /engine-rest: a thin adapter over the same engine commands and permissions."""
