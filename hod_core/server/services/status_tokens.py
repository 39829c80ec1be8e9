"""The consumer's status token: unguessable, and nothing to store.

A referral id is 14 hex digits of time and 12 random ones; it appears in
agents' notices and the audit trail, so it is no secret. The token the
consumer gets is the id with an HMAC-SHA256 tag under the server's secret
key (128 bits): only the server can make one, checking it needs no store
lookup and no new store hook, and it lasts as long as the key. Changing
`secret_key` invalidates every status link: say so to operators.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TAG_BYTES = 16
_PURPOSE = b"hod status token v1\x00"


def _tag(secret_key: str, referral_id: str) -> str:
    digest = hmac.new(secret_key.encode(), _PURPOSE + referral_id.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:TAG_BYTES]).decode().rstrip("=")


def status_token(secret_key: str, referral_id: str) -> str:
    return f"{referral_id}.{_tag(secret_key, referral_id)}"


def referral_of(secret_key: str, token: str) -> str | None:
    """The referral id a genuine token names; None for anything else."""
    referral_id, dot, tag = token.partition(".")
    if not dot or len(token) > 200 or not referral_id.isalnum():
        return None
    return referral_id if hmac.compare_digest(tag, _tag(secret_key, referral_id)) else None
