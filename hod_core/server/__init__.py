"""The reference server `hod serve` (docs/howto/run-the-server.md): a JSON API over the router.

Only the modules that serve HTTP import the web framework (FastAPI); the
settings, the outbox and the command line do not, so `hod` without the
`server` extra still runs and says what to install.
"""
