"""What the pages and the API share: agent edits, operator tools, imports, demo data."""
