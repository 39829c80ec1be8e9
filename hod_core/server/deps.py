"""FastAPI dependencies shared by the route modules, as `Annotated` types:

def route(hod: HodDep, account: AgentAccount, body: JsonObject): ...
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from hod_core.domain.account_records import Account
from hod_core.server.accounts.auth import current_agent, current_operator
from hod_core.server.bodies import read_object
from hod_core.server.context import Hod


async def get_hod(request: Request) -> Hod:
    """The server's `Hod` (router, hooks, settings). Async on purpose: FastAPI runs a
    plain `def` dependency on a worker thread, a hop that costs more than this."""
    return request.app.state.hod


HodDep = Annotated[Hod, Depends(get_hod)]
AgentAccount = Annotated[Account, Depends(current_agent)]
OperatorAccount = Annotated[Account, Depends(current_operator)]
JsonObject = Annotated[dict[str, Any], Depends(read_object)]
