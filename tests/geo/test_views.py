"""The public division look-ups: /api/v1/divisions."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backend.errors import PROBLEM_CONTENT_TYPE
from backend.geo import service
from tests.geo.helpers import Rows, division_copy, read_csv

pytestmark = pytest.mark.usefixtures("geo")

BASE = "/api/v1/divisions"
ANJI_TOWNSHIPS = [
    ("330523001", "递铺街道", "街道"),
    ("330523002", "昌硕街道", "街道"),
    ("330523003", "灵峰街道", "街道"),
    ("330523004", "孝源街道", "街道"),
    ("330523103", "鄣吴镇", "镇"),
    ("330523104", "杭垓镇", "镇"),
    ("330523105", "孝丰镇", "镇"),
    ("330523106", "报福镇", "镇"),
    ("330523107", "章村镇", "镇"),
    ("330523108", "天荒坪镇", "镇"),
    ("330523110", "梅溪镇", "镇"),
    ("330523111", "天子湖镇", "镇"),
    ("330523201", "溪龙乡", "乡"),
    ("330523205", "上墅乡", "乡"),
    ("330523206", "山川乡", "乡"),
]


def _problem(response: httpx.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_CONTENT_TYPE)
    problem = response.json()
    assert problem["status"] == status
    assert problem["type"].endswith("/" + slug), problem
    assert problem["title"] and problem["detail"]
    # Chinese for the person reading it, not an English framework message.
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"]), problem["detail"]
    return problem


async def test_roots_are_the_provinces(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "items": [
            {
                "code": "33",
                "name": "浙江省",
                "level": "province",
                "kind": None,
                "parent_code": None,
                "abolished": False,
                "version": "2023",
            }
        ]
    }
    # Chinese is sent as UTF-8, not as \\u escapes.
    assert "浙江省".encode() in response.content


async def test_get_county(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/330523")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "code": "330523",
        "name": "安吉县",
        "level": "county",
        "kind": None,
        "parent_code": "3305",
        "abolished": False,
        "version": "2023",
    }


async def test_get_township_and_village(client: httpx.AsyncClient) -> None:
    township = (await client.get(f"{BASE}/330523001")).json()
    assert (township["name"], township["level"], township["kind"], township["parent_code"]) == (
        "递铺街道",
        "township",
        "街道",
        "330523",
    )
    village = (await client.get(f"{BASE}/330523001200")).json()
    assert village == {
        "code": "330523001200",
        "name": "坞后村",
        "level": "village",
        "kind": "村委会",
        "parent_code": "330523001",
        "abolished": False,
        "version": "demo",
    }


async def test_county_children_are_its_townships(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/330523/children")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["parent"]["code"] == "330523" and data["parent"]["name"] == "安吉县"
    assert [(d["code"], d["name"], d["kind"]) for d in data["items"]] == ANJI_TOWNSHIPS
    assert {d["level"] for d in data["items"]} == {"township"}
    assert {d["parent_code"] for d in data["items"]} == {"330523"}


async def test_city_children_are_both_counties(client: httpx.AsyncClient) -> None:
    data = (await client.get(f"{BASE}/3305/children")).json()
    assert [(d["code"], d["name"]) for d in data["items"]] == [
        ("330522", "长兴县"),
        ("330523", "安吉县"),
    ]


async def test_township_children_are_its_villages(
    client: httpx.AsyncClient, villages_csv: Path
) -> None:
    response = await client.get(f"{BASE}/330523001/children")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["parent"]["name"] == "递铺街道"
    expected = [(r[0], r[1], r[3]) for r in read_csv(villages_csv)[1:] if r[2] == "330523001"]
    assert [(d["code"], d["name"], d["kind"]) for d in data["items"]] == expected
    assert [d["code"] for d in data["items"]] == [
        "330523001001",
        "330523001002",
        "330523001200",
        "330523001201",
        "330523001202",
    ]
    assert {d["level"] for d in data["items"]} == {"village"}


async def test_township_without_villages_has_no_children(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/330522001/children")
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


async def test_search_in_county(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/search", params={"county": "330523", "q": "递铺"})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(d["code"], d["name"], d["level"]) for d in items] == [
        ("330523001", "递铺街道", "township")
    ]


async def test_search_stays_in_its_county(client: httpx.AsyncClient) -> None:
    anji = (await client.get(f"{BASE}/search", params={"county": "330523", "q": "街道"})).json()
    assert [d["code"] for d in anji["items"]] == [
        "330523001",
        "330523002",
        "330523003",
        "330523004",
    ]
    changxing = await client.get(f"{BASE}/search", params={"county": "330522", "q": "街道"})
    assert [d["name"] for d in changxing.json()["items"]] == [
        "雉城街道",
        "画溪街道",
        "太湖街道",
        "龙山街道",
    ]
    other = await client.get(f"{BASE}/search", params={"county": "330522", "q": "递铺"})
    assert other.json() == {"items": []}


async def test_search_limit(client: httpx.AsyncClient) -> None:
    some = await client.get(f"{BASE}/search", params={"county": "330523", "q": "村", "limit": "2"})
    assert some.status_code == 200, some.text
    items = some.json()["items"]
    assert len(items) == 2
    assert all("村" in d["name"] and d["code"].startswith("330523") for d in items)
    assert items[0]["code"] < items[1]["code"]


@pytest.mark.parametrize(
    ("path", "status", "slug", "detail"),
    [
        ("/12345", 422, "validation-failed", "区划代码 12345 格式不正确"),
        ("/3305231", 422, "validation-failed", "格式不正确"),
        ("/abc", 422, "validation-failed", "格式不正确"),
        ("/３３０５２３", 422, "validation-failed", "格式不正确"),
        ("/999999", 404, "unknown-division", "区划代码 999999 不存在"),
        ("/330523999", 404, "unknown-division", "区划代码 330523999 不存在"),
        ("/12345/children", 422, "validation-failed", "格式不正确"),
        ("/999999/children", 404, "unknown-division", "不存在"),
        ("/330523001200/children", 422, "validation-failed", "村（社区）没有下级区划"),
    ],
)
async def test_bad_codes(
    client: httpx.AsyncClient, path: str, status: int, slug: str, detail: str
) -> None:
    response = await client.get(BASE + path)
    problem = _problem(response, status, slug)
    assert detail in problem["detail"]
    assert problem["instance"].startswith(BASE)


async def test_malformed_code_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/12345")
    problem = _problem(response, 422, "validation-failed")
    assert problem["title"] == "填写的内容有误"
    assert problem["detail"] == "区划代码 12345 格式不正确：应为 2、4、6、9 或 12 位数字"
    assert problem["instance"] == f"{BASE}/12345"
    assert problem["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"county": "330523"}, "q", "必填项未填写"),
        ({"county": "330523", "q": ""}, "q", "必填项未填写"),
        ({"q": "递铺"}, "county", "必填项未填写"),
        ({"county": "33052", "q": "递铺"}, "county", "格式不正确"),
        ({"county": "3305230", "q": "递铺"}, "county", "格式不正确"),
        ({"county": "33052a", "q": "递铺"}, "county", "格式不正确"),
        ({"county": "330523001", "q": "递铺"}, "county", "格式不正确"),
        ({"county": "330523", "q": "递铺", "town": "1"}, "town", "不认识的字段，请删除"),
        ({"county": "330523", "q": "递" * 33}, "q", "内容太长"),
        ({"county": "330523", "q": "递铺", "limit": "0"}, "limit", "数值太小"),
        ({"county": "330523", "q": "递铺", "limit": "101"}, "limit", "数值太大"),
        ({"county": "330523", "q": "递铺", "limit": "ten"}, "limit", "应为整数"),
    ],
)
async def test_search_bad_query(
    client: httpx.AsyncClient, params: dict[str, str], field: str, message: str
) -> None:
    response = await client.get(f"{BASE}/search", params=params)
    problem = _problem(response, 422, "validation-failed")
    assert {"field": field, "message": message} in problem["errors"], problem
    assert field in problem["detail"]


async def test_search_repeated_q_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/search?county=330523&q=递铺&q=昌硕")
    problem = _problem(response, 422, "validation-failed")
    assert [e["field"] for e in problem["errors"]] == ["q"]


async def test_search_unknown_county(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/search", params={"county": "999999", "q": "街道"})
    problem = _problem(response, 404, "unknown-division")
    assert problem["detail"] == "区划代码 999999 不存在"


def _drop_shanchuan(name: str, rows: Rows) -> Rows:
    return [r for r in rows if r[0] != "330523206"] if name == "streets.csv" else rows


async def test_abolished_township(
    client: httpx.AsyncClient, division_subset: Path, tmp_path: Path
) -> None:
    edited = division_copy(division_subset, tmp_path / "2024", _drop_shanchuan)
    report = await service.import_divisions(directory=edited, version="2024")
    assert report.abolished == 1

    one = await client.get(f"{BASE}/330523206")
    assert one.status_code == 200, one.text
    assert one.json() == {
        "code": "330523206",
        "name": "山川乡",
        "level": "township",
        "kind": "乡",
        "parent_code": "330523",
        "abolished": True,
        "version": "2023",
    }
    children = (await client.get(f"{BASE}/330523/children")).json()["items"]
    assert [d["code"] for d in children] == [c for c, _, _ in ANJI_TOWNSHIPS if c != "330523206"]
    assert {d["version"] for d in children} == {"2024"}
    found = await client.get(f"{BASE}/search", params={"county": "330523", "q": "山川"})
    assert found.json() == {"items": []}


async def test_search_in_abolished_county(
    client: httpx.AsyncClient, division_subset: Path, tmp_path: Path
) -> None:
    def drop_changxing(name: str, rows: Rows) -> Rows:
        return [r for r in rows if not r[0].startswith("330522")]

    edited = division_copy(division_subset, tmp_path / "2024", drop_changxing)
    report = await service.import_divisions(directory=edited, version="2024")
    assert report.abolished == 16

    response = await client.get(f"{BASE}/search", params={"county": "330522", "q": "街道"})
    problem = _problem(response, 422, "abolished-division")
    assert "已撤销" in problem["detail"] and "长兴县" in problem["detail"]
    city = (await client.get(f"{BASE}/3305/children")).json()["items"]
    assert [d["code"] for d in city] == ["330523"]


async def test_divisions_are_public(client: httpx.AsyncClient) -> None:
    # The mini-program's picker calls these before anyone signs in.
    response = await client.get(f"{BASE}/330523/children")
    assert response.status_code == 200
    assert "www-authenticate" not in response.headers
