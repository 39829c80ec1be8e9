"""The adapter conformance suite: run it with `pytest -p hod_core.testing.plugin
--hod-adapter NAME --pyargs hod_core.testing.conformance` (see `hod_core.testing.plugin`)."""
