"""`hod coverage`: where and when nobody can help (eligible, available agents).

`counts` counts agents per state, language and hour; `week` places each
state's week in its own zone; `gaps` turns the counts into sentences;
`naive` is the brute-force count (oracle and baseline). Imports
`matching`, `rules`, `geo`, `wire`, `reports`, `domain` and `errors`, and
may import any layer below it (`testing` and down, see `.importlinter`);
never `simulate` (its sibling), the server or the command line.
"""
