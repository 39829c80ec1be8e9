"""Policy what-if: `hod simulate` runs the real router over a
day of demand on a fake clock, with a model of how agents answer offers.

Layering: this package imports `testing` (the fake clock), the router,
the in-memory store and what lies below them; nothing below imports it,
and it never imports `coverage` (its sibling), the server or the command
line.
"""
