"""The operator's pages: import agents (with a progress bar), invitations,
the agent list with filters (suspend, reinstate), referrals with their audit
trail as a timeline (L11), the why explorer (every rule's verdict, as
`hod match --why` gives it), waiting and unmatched referrals (L10), and the
demo outbox. The work is in `operations` and `agent_import`, shared with the
API and the command line; an operator never sees a consumer's contact data.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request

from hod_core.domain.codes import US_STATES
from hod_core.errors import HodError, InputError, NotFound
from hod_core.server.deps import HodDep
from hod_core.server.pages.common import LANGUAGE_CHOICES, language_options
from hod_core.server.pages.render import ECHO_CHARS, page, redirect, translator
from hod_core.server.pages.session import PageOperator, csrf_of, form_of
from hod_core.server.services import operations
from hod_core.server.services.agent_import import import_agents, invite_agents

router = APIRouter(include_in_schema=False)
MAX_IMPORT_BYTES = 20 * 1024 * 1024


def _page(request: Request, template: str, account, status: int = 200, **context):
    return page(request, template, status=status, account=account, csrf=csrf_of(request), **context)


@router.get("/operator")
def operator_home():
    return redirect("/operator/agents")


# -- agents --------------------------------------------------------------------------------
@router.get("/operator/agents")
def agents_page(
    request: Request,
    q: str = "",
    state: str = "",
    status: str = "",
    language: str = "",
    *,
    account: PageOperator,
    hod: HodDep,
):
    suspended = {"suspended": True, "active": False}.get(status)
    found = operations.search_agents(
        hod, q[:100], state if state in US_STATES else None, suspended, 500, 0
    )
    rows = [a for a in found["agents"] if not language or language in a["languages"]]
    registered = {a.npn for a in hod.accounts.agent_accounts()}
    t = translator(request)
    return _page(
        request,
        "operator_agents.html",
        account,
        rows=rows,
        registered=registered,
        filters={  # given back in the form: never a whole hostile query
            name: value[:ECHO_CHARS]
            for name, value in (
                ("q", q),
                ("state", state),
                ("status", status),
                ("language", language),
            )
        },
        states=sorted(US_STATES),
        languages=language_options(t, LANGUAGE_CHOICES),
    )


@router.post("/operator/agents/{npn}/{action}")
def agent_action(npn: str, action: str, *, account: PageOperator, hod: HodDep):
    actor = f"operator:{account.login}"
    if action == "suspend":
        operations.suspend(hod, npn, actor)
    elif action == "reinstate":
        operations.reinstate(hod, npn, actor)
    else:
        raise NotFound("no such action")
    return redirect(f"/operator/agents?q={npn}")


# -- import and invitations ------------------------------------------------------------------
@router.get("/operator/import")
def import_page(request: Request, *, account: PageOperator):
    return _page(request, "operator_import.html", account, result=None, error="")


@router.post("/operator/import")
async def import_submit(request: Request, *, account: PageOperator, hod: HodDep):
    form = await form_of(request)
    upload = form.get("agents")
    if upload is None or isinstance(upload, str):
        return _page(
            request,
            "operator_import.html",
            account,
            status=422,
            result=None,
            error="agents: no file",
        )
    data = await upload.read(MAX_IMPORT_BYTES + 1)
    name = Path(upload.filename or "agents.jsonl").name
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data[:MAX_IMPORT_BYTES])
        try:
            result = import_agents(hod, path)
        except (InputError, HodError) as exc:
            return _page(
                request, "operator_import.html", account, status=422, result=None, error=str(exc)
            )
    return _page(request, "operator_import.html", account, result=result, error="")


@router.get("/operator/invitations")
def invitations_page(request: Request, *, account: PageOperator, hod: HodDep):
    return _page(
        request,
        "operator_invitations.html",
        account,
        result=None,
        error="",
        waiting=hod.accounts.uninvited(),
    )


@router.post("/operator/invitations")
async def invite_submit(request: Request, *, account: PageOperator, hod: HodDep):
    form = await form_of(request)
    npns = str(form.get("npns", "")).replace(",", " ").split()
    everyone = form.get("all") == "on"
    try:
        result = invite_agents(hod, [] if everyone else npns, everyone, print_links=True)
        error = ""
    except InputError as exc:
        result, error = None, exc.render()
    return _page(
        request,
        "operator_invitations.html",
        account,
        status=422 if error else 200,
        result=result,
        error=error,
        waiting=hod.accounts.uninvited(),
    )


# -- referrals, the audit trail, the why explorer ---------------------------------------------
@router.get("/operator/referrals")
def referrals_page(request: Request, status: str = "", *, account: PageOperator, hod: HodDep):
    listed = operations.list_referrals(hod, status or None, None, 100)
    return _page(request, "operator_referrals.html", account, rows=listed["referrals"])


@router.get("/operator/referrals/{referral_id}")
def referral_page(referral_id: str, request: Request, *, account: PageOperator, hod: HodDep):
    detail = operations.referral_detail(hod, referral_id)
    return _page(request, "operator_referral.html", account, referral=detail)


@router.get("/operator/why")
def why_page(
    request: Request, referral: str = "", npn: str = "", *, account: PageOperator, hod: HodDep
):
    answer, error = None, ""
    referral, npn = referral[:ECHO_CHARS], npn[:ECHO_CHARS]  # echoed in the form and the error
    if referral and npn:
        try:
            answer = operations.why(hod, referral.strip(), npn.strip())
        except (NotFound, InputError) as exc:
            error = str(exc)
    recent = operations.list_referrals(hod, None, None, 20)["referrals"]
    return _page(
        request,
        "operator_why.html",
        account,
        status=404 if error else 200,
        answer=answer,
        error=error,
        values={"referral": referral, "npn": npn},
        recent=recent,
    )


@router.get("/operator/waiting")
def waiting_page(request: Request, *, account: PageOperator, hod: HodDep):
    waiting = operations.list_referrals(hod, "waiting", None, 200)["referrals"]
    unmatched = operations.list_referrals(hod, "unmatched", None, 200)["referrals"]
    return _page(request, "operator_waiting.html", account, waiting=waiting, unmatched=unmatched)


@router.get("/operator/outbox")
def outbox_page(request: Request, *, account: PageOperator, hod: HodDep):
    hod.router.drain(timeout=2)
    notices = operations.outbox(hod, 200) if hod.outbox is not None else None
    return _page(request, "operator_outbox.html", account, notices=notices)
