"""For adapter authors and hosts: test doubles, sample data, the conformance suite.

`doubles` (a fake clock, an outbox, loopback servers) and `synthetic`
(seeded agents and consumers) need no pytest; `plugin` is the pytest plugin
that runs `testing.conformance` against an installed adapter:

    pytest -p hod_core.testing.plugin --hod-adapter NAME --pyargs hod_core.testing.conformance

May import everything but `simulate`, `coverage`, `server` and the commands.
"""

from hod_core.testing.doubles import FakeClock, LoopbackHttpServer, Outbox, closed_port

__all__ = ["FakeClock", "LoopbackHttpServer", "Outbox", "closed_port"]
