"""What the pages and the API share: agent edits, operator tools, imports, demo data.

May import `context`, `accounts` and the server's infrastructure; never
`deps`, the API, the pages, the app or the commands.
"""
