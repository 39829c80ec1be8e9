"""The rule file (`default.toml` ships here) and its condition language.

`policy` loads, checks and compiles a rule file into a `Policy`; `expr`,
`compile`, `operators` and `vocabulary` are the CEL conditions and the facts
they read; `capacity` and `directory_policy` are its E12 and D1-D3 tables;
`locate` finds a key's line for error messages. May import `domain` and
`errors` only: never its siblings `wire`, `geo`, `extend` and `reports`, nor
any layer above.
"""
