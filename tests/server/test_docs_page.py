"""`/docs` from the server's own files: the page names only same-origin
assets, each is served (Swagger UI from the fastapi-offline package), the
CSP allows nothing from another site, and Swagger UI is told not to send the
document to its public validator."""

from __future__ import annotations

import re
from importlib import resources
from urllib.parse import urlsplit


def referenced(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_the_docs_page_references_only_assets_this_server_serves(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assets = referenced(page.text)
    assert len(assets) == 3  # the stylesheet, Swagger UI, the script that starts it
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/docs/"), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["content-type"].startswith(("text/css", "text/javascript")), url
        assert answer.content, url


def test_the_assets_are_the_packages_own_files(client):
    for name in ("swagger-ui.css", "swagger-ui-bundle.js"):
        answer = client.get(f"/docs/assets/{name}")
        assert (
            answer.content
            == resources.files("fastapi_offline").joinpath("static", name).read_bytes()
        )
        assert answer.headers["cache-control"].startswith("public")
    assert b"SwaggerUIBundle" in client.get("/docs/assets/swagger-ui-bundle.js").content


def test_only_the_pages_assets_are_served(client):
    for name in (
        "index.html",
        "swagger-ui.js.map",
        "..%2F__init__.py",
        "x.css",
        "oauth2-redirect.html",
    ):
        answer = client.get(f"/docs/assets/{name}")
        assert answer.status_code == 404, name
        assert answer.headers["content-type"] == "application/json", name


def test_the_docs_page_allows_nothing_from_another_site(client):
    csp = client.get("/docs").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
    for name in ("script-src", "style-src", "img-src", "connect-src"):
        assert not re.search(r"https?:|\*", directives[name]), (name, directives[name])
    assert directives["script-src"] == "'self'"
    init = client.get("/docs/init.js").text
    assert "validatorUrl: null" in init and 'url: "/openapi.json"' in init
