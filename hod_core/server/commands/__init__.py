"""The server's commands: `hod serve` and the operator's tools.

The top of the server: may import all of it, the app only inside `hod
serve` (registering the commands loads no web framework).
"""
