"""The server's commands: `hod serve` and the operator's tools (no web imports)."""
