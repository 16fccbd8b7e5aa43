"""The HTTP contract: problem+json everywhere, request ids, logs without personal data."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["type"].endswith("/" + slug)
    # A person must be able to read it: the title and detail are Chinese.
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["title"] + body["detail"])
    return body


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/no/such/place"), 404, "not-found")
    assert body["instance"] == "/no/such/place"
    assert body["request_id"]


async def test_wrong_method_is_problem_json(client: httpx.AsyncClient) -> None:
    assert_problem(await client.delete("/healthz"), 405, "method-not-allowed")


async def test_request_id_is_kept_when_sane(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "phone-abc-12345678"})
    assert response.headers["x-request-id"] == "phone-abc-12345678"
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert response.headers["x-request-id"] != "bad id with spaces"


@pytest.mark.parametrize(
    ("content", "headers", "status", "slug"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "invalid-json"),
        (b"", {"content-type": "application/json"}, 400, "invalid-json"),
        (b"[1, 2]", {"content-type": "application/json"}, 400, "invalid-json"),
        (
            b"username=a",
            {"content-type": "application/x-www-form-urlencoded"},
            415,
            "unsupported-media-type",
        ),
    ],
)
async def test_bodies_that_are_not_json_objects(
    client: httpx.AsyncClient, content: bytes, headers: dict, status: int, slug: str
) -> None:
    response = await client.post("/api/v1/auth/login", content=content, headers=headers)
    assert_problem(response, status, slug)


async def test_validation_errors_name_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": 12, "password": "x", "extra": True}
    )
    body = assert_problem(response, 422, "validation-failed")
    by_field = {e["field"]: e["message"] for e in body["errors"]}
    assert by_field["username"] == "应为文字"
    assert by_field["extra"] == "不认识的字段，请删除"


async def test_control_characters_are_refused_with_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"username": "wang\u0000", "password": "long-enough-pw"}
    )
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"] == [
        {"field": "username", "message": "含有不可见的控制字符，请删除后重试"}
    ]


async def test_deep_nesting_is_refused_not_a_server_error(client: httpx.AsyncClient) -> None:
    for body in (b"[" * 3000 + b"]" * 3000, b'{"a":' * 40 + b"1" + b"}" * 40):
        response = await client.post(
            "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
        )
        assert_problem(response, 400, "invalid-json")


@pytest.mark.parametrize("char", ["\u0085", "\u2028", "\u202e", "\u2066", "\x7f"])
async def test_c1_controls_and_bidi_overrides_are_refused(
    client: httpx.AsyncClient, char: str
) -> None:
    # A right-to-left override would show a clerk "13800138000" as "00083100831".
    response = await client.post(
        "/api/v1/auth/login", json={"username": f"wang{char}", "password": "long-enough-pw"}
    )
    assert assert_problem(response, 422, "validation-failed")["errors"][0]["field"] == "username"


async def test_oversized_body_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        content=b"x" * (2 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


async def test_metrics_count_requests(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert 'yimen_http_requests_total{method="GET",route="healthz",status="200"}' in text
    assert "yimen_http_request_seconds_bucket" in text


async def test_openapi_documents_the_api(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/windows/{township_code}",
        "/readyz",
        "/api/v1/divisions/{code}/children",
    ):
        assert path in paths, sorted(paths)
    assert "bearer" in spec["components"]["securitySchemes"]
    assert (await client.get("/docs")).status_code == 200


async def test_logs_carry_request_id_and_no_personal_data(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture
) -> None:
    id_number, phone = "330523198001011234", "13812345678"
    with caplog.at_level(logging.INFO):
        await client.post(
            f"/api/v1/auth/login?hint={phone}",
            json={"username": f"u{id_number}", "password": phone},
            headers={"X-Request-ID": "trace-0000000001"},
        )
        logging.getLogger("yimen.test").info("caller said %s and %s", id_number, phone)
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    access = [entry for entry in lines if entry.get("event") == "request"]
    assert access and access[-1]["request_id"] == "trace-0000000001"
    assert access[-1]["status"] == 401
    assert id_number not in out and phone not in out
    assert "13812345678" not in out
    assert "138****5678" in out  # the stdlib message was masked, not dropped


async def test_readyz_names_what_failed(app: object, client: httpx.AsyncClient) -> None:
    from storage import create_store

    # Point the app's store at a port nothing listens on: only storage should fail.
    app.ctx.store = create_store(  # type: ignore[attr-defined]
        s3_endpoint="127.0.0.1:1",
        s3_access_key="x",
        s3_secret_key="y",
        s3_bucket="nothing-here",
        s3_secure=False,
        s3_region="us-east-1",
        local_root=app.ctx.settings.data_dir,  # type: ignore[attr-defined]
        signing_key=b"k",
    )
    body = assert_problem(await client.get("/readyz"), 503, "service-unavailable")
    assert body["failed"] == ["storage"]
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert "对象存储" in body["detail"]
