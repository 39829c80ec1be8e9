"""For operators' machinery: `/healthz`, `/metrics`, and the interactive API docs.

The docs page is Swagger UI 5 (Apache-2.0) from the files the
`fastapi-offline` package ships (its version pinned in pyproject), served by
this server at `/docs/assets/`: nothing loads from another site, and the
page works offline. It is started
by a script this server serves (`/docs/init.js`) rather than an inline one,
so the page keeps a Content-Security-Policy without 'unsafe-inline' scripts;
`validatorUrl: null` keeps Swagger UI from sending the document to its
public validator.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hod_core.server.deps import HodDep
from hod_core.server.metrics import CONTENT_TYPE

router = APIRouter(tags=["system"])
log = logging.getLogger("hod.error")

ASSETS = "/docs/assets"
DOCS_HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hod-core API</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>
"""
DOCS_JS = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, validatorUrl: null, presets: [SwaggerUIBundle.presets.apis]});
"""
# The package's files the page uses, and their types: nothing else is served.
DOCS_ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}
# The assets change only with the package: a browser may keep them a day.
ASSET_CACHE = "public, max-age=86400"


@router.get("/healthz", summary="The server is up and its store answers")
def healthz(hod: HodDep) -> JSONResponse:
    try:
        hod.router.health_check()
    except Exception as exc:  # noqa: BLE001 - any store failure means unhealthy
        log.error("healthz: the store did not answer: %s", type(exc).__name__)
        return JSONResponse({"status": "store unavailable"}, status_code=503)
    return JSONResponse({"status": "ok", "agents": hod.router.agent_count()})


@router.get("/metrics", summary="Prometheus text format", response_class=Response)
def metrics(hod: HodDep) -> Response:
    return Response(hod.metrics.render(), media_type=CONTENT_TYPE)


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return HTMLResponse(DOCS_HTML)


@router.get("/docs/init.js", include_in_schema=False)
def docs_script() -> Response:
    return Response(DOCS_JS, media_type="text/javascript")


@router.get(ASSETS + "/{name}", include_in_schema=False)
def docs_asset(name: str) -> Response:
    """One of `DOCS_ASSETS`, read from the installed fastapi-offline package."""
    kind = DOCS_ASSETS.get(name)
    if kind is None:
        raise HTTPException(404, "no such file")
    return Response(_asset(name), media_type=kind, headers={"cache-control": ASSET_CACHE})


@cache
def _asset(name: str) -> bytes:
    return resources.files("fastapi_offline").joinpath("static", name).read_bytes()
