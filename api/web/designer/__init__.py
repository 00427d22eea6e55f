"""Designer area: upload and deploy process files, versions, version diff, and the process diagram view."""
