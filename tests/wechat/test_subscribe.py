"""fit_subscribe_data: every value cut to its key type's rule before WeChat sees it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from backend.wechat import fit_subscribe_data


def _fit(key: str, value: object) -> str:
    return fit_subscribe_data({key: value})[key]["value"]  # type: ignore[dict-item]


def test_the_shape_is_wechats() -> None:
    assert fit_subscribe_data({"thing1": "已受理", "phrase2": "已受理"}) == {
        "thing1": {"value": "已受理"},
        "phrase2": {"value": "已受理"},
    }


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("thing1", "短文字", "短文字"),
        ("thing1", "一" * 20, "一" * 20),
        ("thing1", "一" * 21, "一" * 19 + "…"),
        ("thing12", "两行\n文字  之间", "两行 文字 之间"),
        ("phrase2", "已受理", "已受理"),
        ("phrase2", "处理中(2)", "处理中"),
        ("phrase2", "已经受理完毕", "已经受理完"),
        ("character_string3", "A-" + "9" * 40, "A-" + "9" * 30),
        ("character_string3", "编号 AB-12", "AB-12"),
        ("number4", 12345, "12345"),
        ("number4", "约 3.5 公里", "3.5"),
        ("number4", "1" * 40, "1" * 32),
        ("name5", "张三", "张三"),
        ("name5", "阿卜杜热合曼·买买提明艾力", "阿卜杜热合曼·买买提"),
        ("name5", "Alexander Maximilian Smith", "Alexander Maximilian"),
        ("phone_number6", "13800001234", "13800001234"),
        ("phone_number6", "+86 0572 5123456 转 8001", "+86-0572-5123456"),
        ("letter7", "abc123def", "abcdef"),
        ("symbol8", "a+-*/%^", "+-*/%"),
        ("amount9", 123456, "¥1234.56"),
        ("amount9", "¥12.50", "¥12.50"),
        ("car_number10", "浙E 12345", "浙E12345"),
        ("time11", "2026-12-01 15:01", "2026-12-01 15:01"),
        ("time11", datetime(2026, 12, 1, 7, 1, tzinfo=UTC), "2026-12-01 15:01"),
        ("date12", date(2026, 12, 1), "2026年12月1日"),
        ("date12", datetime(2026, 11, 30, 16, 30, tzinfo=UTC), "2026年12月1日 00:30"),
    ],
)
def test_values_are_cut_to_their_rule(key: str, value: object, expected: str) -> None:
    assert _fit(key, value) == expected


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        _fit("time1", datetime(2026, 12, 1, 15, 1))


@pytest.mark.parametrize("key", ["keyword1", "thing", "first_1x", "1thing"])
def test_keys_of_no_known_type_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="no known type"):
        _fit(key, "x")


@pytest.mark.parametrize(("key", "value"), [("thing1", "  "), ("phrase2", "OK"), ("number3", "无")])
def test_values_empty_once_cut_are_refused(key: str, value: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        _fit(key, value)
