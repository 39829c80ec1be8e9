"""Notifications: what an offer notice says and how it is delivered (L2, R4).

`notices` builds offer notices (no consumer data, P1) and the L8 alert;
`dispatch` is the delivery policy: a thread per channel, attempts
recorded, retries. May import `extend` (the channel hooks) and `domain`.
"""
