"""The JSON API under /api/v1: one module per kind of caller.

Routes only: each reads its request, asks the router or a service, and
answers. May import the server's infrastructure, `accounts` and `services`.
"""
