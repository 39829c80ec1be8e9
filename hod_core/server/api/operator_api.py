"""The operator's API (`current_operator` only): agents, referrals with their
audit trail, `why`, delivery failures and the demo outbox. The work is in
`operations`, which the command line shares."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from hod_core.errors import NotFound
from hod_core.server.accounts.auth import current_operator
from hod_core.server.deps import HodDep, OperatorAccount
from hod_core.server.services import operations

router = APIRouter(
    prefix="/api/v1/operator", tags=["operator"], dependencies=[Depends(current_operator)]
)


MAX_EVENT_ID = 2**63 - 1  # event ids are 64-bit integers in every store


def _actor(account) -> str:
    return f"operator:{account.login}"


@router.get("/agents", summary="Search agents by NPN, name or email")
def agents(
    hod: HodDep,
    q: Annotated[str, Query(max_length=100)] = "",
    state: Annotated[str | None, Query(max_length=2)] = None,
    suspended: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return operations.search_agents(hod, q, state, suspended, limit, offset)


@router.get("/agents/{npn}", summary="One agent's whole record")
def agent(npn: str, hod: HodDep) -> dict[str, Any]:
    return operations.agent_detail(hod, npn)


@router.post(
    "/agents/{npn}/suspend", summary="Suspend an agent: no referrals until reinstated (E3)"
)
def suspend(npn: str, account: OperatorAccount, hod: HodDep):
    return operations.suspend(hod, npn, _actor(account))


@router.post("/agents/{npn}/reinstate", summary="Lift a suspension (L9)")
def reinstate(npn: str, account: OperatorAccount, hod: HodDep):
    return operations.reinstate(hod, npn, _actor(account))


@router.get(
    "/referrals",
    summary="Referrals newest first; status=waiting or unmatched (L10), offered, accepted, ...",
)
def referrals(
    hod: HodDep,
    status: Annotated[str | None, Query(max_length=30)] = None,
    before: Annotated[
        str | None, Query(max_length=64, description="`next` of the last page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return operations.list_referrals(hod, status, before, limit)


@router.get("/referrals/{referral_id}", summary="A referral and its audit trail (L11)")
def referral(referral_id: str, hod: HodDep) -> dict[str, Any]:
    return operations.referral_detail(hod, referral_id)


@router.get(
    "/referrals/{referral_id}/why/{npn}",
    summary="Why this agent would or would not get this referral now: every rule's verdict",
)
def why(referral_id: str, npn: str, hod: HodDep) -> dict[str, Any]:
    return operations.why(hod, referral_id, npn)


@router.get("/deliveries/failed", summary="Failed notification attempts, newest first")
def delivery_failures(
    hod: HodDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_EVENT_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    return operations.delivery_failures(hod, before, limit)


@router.get(
    "/outbox",
    summary="The in-app outbox: every notice the server would have sent, the tokens of "
    "invitation and reset links hidden (shown under --demo)",
)
def outbox(
    hod: HodDep,
    npn: Annotated[str | None, Query(max_length=10)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    if hod.outbox is None:
        raise NotFound("this server sends real notices: there is no outbox (notifiers = outbox)")
    return {"notices": operations.outbox(hod, limit, npn)}
