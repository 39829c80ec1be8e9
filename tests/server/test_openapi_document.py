"""The OpenAPI document at /openapi.json says what the server does: every
operation's 4xx answers with the shared error schemas, the security schemes,
a body for every route that reads one, and a 405 naming every method of a
path. (`tox -e api-fuzz` checks the server against it with schemathesis.)"""

from __future__ import annotations

import pytest

from hod_core.server.openapi_document import api_routes, reads_body, role

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client):
    return client.get("/openapi.json").json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_every_operation_answers_4xx_with_the_shared_error_schemas(document):
    schemas = document["components"]["schemas"]
    assert {"Error", "Problem", "FieldProblems"} <= set(schemas)
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)
    assert schemas["Problem"]["required"] == ["field", "message"]
    checked = 0
    for method, path, operation in _operations(document):
        # the connection's own limits (request_read_seconds, max_headers, per-address cap)
        assert {"408", "431", "503"} <= set(operation["responses"]), f"{method} {path}"
        if path in ("/healthz", "/metrics"):
            continue
        errors = {s: a for s, a in operation["responses"].items() if s.startswith(("4", "5"))}
        assert any(s.startswith("4") for s in errors), f"{method} {path}"
        for status, answer in errors.items():
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            expected = "FieldProblems" if status == "422" else "Error"
            assert ref == f"#/components/schemas/{expected}", f"{method} {path} {status}"
        checked += 1
    assert checked >= 30


def test_the_422_the_server_sends_is_the_one_the_document_shows(client, document):
    answer = client.post("/api/v1/referrals", json={"first_name": "Ana", "zip": "nope"})
    assert answer.status_code == 422
    problem = document["components"]["schemas"]["Problem"]
    for entry in answer.json()["detail"]:
        assert set(problem["required"]) <= set(entry) <= set(problem["properties"])


def test_logged_in_operations_declare_their_security_and_401_403(app, document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert (schemes["sessionCookie"]["in"], schemes["sessionCookie"]["name"]) == (
        "cookie",
        "hod_session",
    )
    assert (schemes["csrfToken"]["in"], schemes["csrfToken"]["name"]) == (
        "header",
        "X-CSRF-Token",
    )
    logged_in = 0
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in (m.lower() for m in route.methods):
            operation = document["paths"][route.path_format][method]
            if role(route) is None:
                assert "security" not in operation, f"{method} {route.path_format}"
                continue
            logged_in += 1
            assert {"401", "403"} <= set(operation["responses"]), route.path_format
            cookie = {"sessionCookie": []}
            if method != "get":
                cookie["csrfToken"] = []  # a cookie state change needs its CSRF token
            assert operation["security"] == [{"bearerAuth": []}, cookie], route.path_format
    assert logged_in >= 20


def test_every_route_that_reads_a_body_declares_it(app, document):
    with_body = 0
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        for method in (m.lower() for m in route.methods):
            operation = document["paths"][route.path_format][method]
            if reads_body(route):
                with_body += 1
                body = operation["requestBody"]
                schema = body["content"]["application/json"]["schema"]
                assert body["required"] and schema["type"] == "object", route.path_format
                assert {"413", "422"} <= set(operation["responses"]), route.path_format
    assert with_body >= 10
    assert (
        "requestBody" in document["paths"]["/api/v1/referrals"]["post"]
    )  # read by its own dependency
    for path in ("/api/v1/agent/referrals/{referral_id}/accept", "/api/v1/logout"):
        assert "requestBody" not in document["paths"][path]["post"]


def test_the_agent_edit_bodies_say_the_server_rules(document, agent_login):
    paths = document["paths"]
    move = paths["/api/v1/agent/referrals/{referral_id}/status"]["post"]
    schema = move["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["status"] and schema["additionalProperties"] is False
    assert "completed" in schema["properties"]["status"]["enum"]
    profile = paths["/api/v1/agent/profile"]["patch"]
    schema = profile["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["contact_method"]["enum"][0] == "email_text_app"
    # What the schema refuses, the server refuses: an unknown field and a bad enum value.
    agent = agent_login()
    assert agent.patch("/api/v1/agent/profile", json={"nickname": "x"}).status_code == 422
    bad = agent.patch("/api/v1/agent/profile", json={"contact_method": "pigeon"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "contact_method"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/api/v1/agent/availability", "GET, PATCH"),
        ("PUT", "/api/v1/agent/availability/today", "DELETE, POST"),
        ("PUT", "/api/v1/agent/profile", "GET, PATCH"),
        ("DELETE", "/api/v1/agent/referrals/r1/accept", "POST"),
    ],
)
def test_a_405_allow_lists_every_method_of_the_path(client, method, path, allowed):
    answer = client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allowed


def test_a_cursor_beyond_64_bits_is_a_422_not_a_500(operator_login):
    """Found by schemathesis: SQLite cannot bind an integer over 64 bits."""
    operator = operator_login()
    answer = operator.get("/api/v1/operator/deliveries/failed", params={"before": 2**64})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "before"
    assert operator.get("/api/v1/operator/deliveries/failed", params={"before": 5}).is_success


@pytest.mark.parametrize("radius", ["³", "٣", "1²"])
def test_a_number_in_another_script_is_a_422_not_a_500(client, radius):
    """Found by schemathesis: "³".isdigit() is true, int("³") fails."""
    answer = client.get("/api/v1/directory", params={"zip": "77002", "radius": radius})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "radius"
    page = client.get("/find-local-help", params={"zip": "77002", "radius": radius})
    assert page.status_code < 500
