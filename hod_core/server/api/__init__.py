"""The JSON API under /api/v1: one module per kind of caller.

Routes only: each reads its request, asks the router or a service, and
answers. May import `deps`, `services`, `context`, `accounts` and the
server's infrastructure; never the pages, the app or the commands.
"""
