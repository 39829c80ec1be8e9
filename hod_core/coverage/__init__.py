"""`hod coverage`: where and when nobody can help (eligible, available agents).

`counts` counts agents per state, language and hour; `week` places each
state's week in its own zone; `gaps` turns the counts into sentences;
`naive` is the brute-force count (oracle and baseline). May import
`matching`, `rules`, `wire`, `domain` and `reports`.
"""
