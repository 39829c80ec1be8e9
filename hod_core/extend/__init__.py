"""The extension surface: hook specifications, plugin loading, settings.

`hookspecs` is the whole contract of clocks, stores and channels;
`plugins` finds adapters through the `hod_core.adapters` entry points;
`settings` reads adapter settings from a host, the environment or a TOML
file. May import `domain` and `errors` only: never its siblings `wire`,
`geo`, `rules` and `reports`, nor any layer above.
"""
