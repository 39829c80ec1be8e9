"""Notifications: what an offer notice says and how it is delivered (L2, R4).

`notices` builds offer notices (no consumer data, P1) and the L8 alert;
`dispatch` is the delivery policy: a thread per channel, attempts
recorded, retries. Imports `extend` (the channel hooks), `domain` and
`errors`, and may import any layer below it (`wire`, `geo`, `rules`,
`reports`); never `matching` (its sibling), `lifecycle` or anything above.
"""
