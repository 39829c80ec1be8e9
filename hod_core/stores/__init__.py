"""Stores that ship with hod-core (the others are adapters under adapters/).

May import `extend` (the store hooks), `domain` and any layer below
`lifecycle`; never `lifecycle` (its sibling) or anything above.
"""
