"""Agent and operator accounts (R1-R5): passwords, invitations, sessions, throttles.

Imports nothing of the server (the rest of it builds on the accounts), only
`hod_core` below the server.
"""
