"""For operators' machinery: `/healthz`, `/metrics`, and the interactive API docs.

The docs page is Swagger UI from its CDN, started by a script this server
serves (`/docs/init.js`) rather than an inline one, so the page keeps a
Content-Security-Policy without 'unsafe-inline' scripts.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from hod_core.server.deps import HodDep
from hod_core.server.metrics import CONTENT_TYPE

router = APIRouter(tags=["system"])
log = logging.getLogger("hod.error")

SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
DOCS_HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hod-core API</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>
"""
DOCS_JS = """window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui",
  deepLinking: true, presets: [SwaggerUIBundle.presets.apis]});
"""


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
