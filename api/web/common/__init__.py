"""What every area of the web app shares: the session and login pages, error pages, the home page, the form
renderer (`schema_forms`), submitted-form loading, read queries, and the layout and macro templates."""
