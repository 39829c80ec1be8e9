"""The adapter conformance suite: run it with `pytest -p hod_core.testing
--hod-adapter NAME --pyargs hod_core.conformance` (see `hod_core.testing`)."""
