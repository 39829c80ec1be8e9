"""Self-contained HTML reports of `hod simulate` and `hod coverage`, plots included.

Needs the `report` extra (matplotlib) only when a report is drawn.
"""
