"""The referral lifecycle (L1-L11): the router and its decisions.

`decisions` holds pure functions of (referral, now, queue head, policy);
`router` commits them over the store's compare-and-set and notifies;
`sweep` is what the clock does (expiries, waits, deadlines, erasure);
`roster` keeps the matcher in step with the stored agents (L9);
`host_methods` and `referral_reads` are what a host asks of the router
beyond the lifecycle (agents, listings, health) and what people may see.
May import everything below it (`matching`, `notify`, `extend`, `domain`,
`wire`, `rules`, `geo`, `reports`, `errors`), never `stores` (its sibling: the
router reaches a store through the hooks), `testing`, `simulate`, `coverage`,
the server or the command line.
"""
