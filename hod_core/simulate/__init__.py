"""Policy what-if: `hod simulate` runs the real router over a
day of demand on a fake clock, with a model of how agents answer offers.

Layering: this package imports the router and what lies below it; nothing
below imports it, and it never imports the server.
"""
