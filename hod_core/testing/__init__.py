"""For adapter authors and hosts: test doubles, sample data, the conformance suite.

Public, and none of it imports pytest:

- `FakeClock`, `Outbox`: a clock a test moves by hand and a channel that keeps
  what it is given (plain plugins for a `Router`);
- `closed_port`, `LoopbackHttpServer`: a port nothing listens on, and an HTTP
  server on 127.0.0.1 that records requests and answers as told;
- `samples`: a ready agent, consumer and referral (`samples.agent()`,
  `samples.CONSUMER`, `samples.referral()`, `samples.START`);
- `Synthesizer`: seeded, realistic agents and consumers in any number;
- `Worker`: a router in a process of its own on the adapter's store, for a
  store's race and crash tests;
- `together`: calls released at once on threads of their own (races in one process).

`plugin` is the pytest plugin that runs `testing.conformance` against an
installed adapter:

    pytest -p hod_core.testing.plugin --hod-adapter NAME --pyargs hod_core.testing.conformance

May import everything but `simulate`, `coverage`, `server` and the commands.
"""

from typing import TYPE_CHECKING

from hod_core.testing import samples
from hod_core.testing.doubles import FakeClock, LoopbackHttpServer, Outbox, closed_port
from hod_core.testing.racing import together
from hod_core.testing.synthetic import Synthesizer

if TYPE_CHECKING:  # for type checkers and the API reference; imported on use below
    from hod_core.testing.conformance.worker import Worker

__all__ = [
    "FakeClock",
    "LoopbackHttpServer",
    "Outbox",
    "Synthesizer",
    "Worker",
    "closed_port",
    "samples",
    "together",
]


def __getattr__(name: str):
    # The worker module is also run as `python -m ...worker`; importing it
    # here on every `import hod_core.testing` would make runpy warn that it
    # was imported before it ran.
    if name == "Worker":
        from hod_core.testing.conformance.worker import Worker

        return Worker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
