"""Self-contained HTML reports of `hod simulate` and `hod coverage`, plots included.

Needs the `report` extra (matplotlib) only when a report is drawn. May
import `domain` and `errors` only: it draws the figures `simulate` and
`coverage` hand it and knows nothing of matching or the router.
"""
