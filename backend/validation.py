"""Turn request bodies and queries into pydantic models, with Chinese messages on failure."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from backend.errors import BadRequest, ValidationFailed

M = TypeVar("M", bound=BaseModel)
# JSON bodies are small forms; photos travel separately. Refuse more before parsing.
MAX_JSON_BYTES = 1024 * 1024

# pydantic error types -> what a clerk or resident should read.
_MESSAGES = {
    "missing": "必填项未填写",
    "extra_forbidden": "不认识的字段，请删除",
    "string_type": "应为文字",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为是或否 (true/false)",
    "bool_parsing": "应为是或否 (true/false)",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "string_too_short": "内容太短",
    "string_too_long": "内容太长",
    "string_pattern_mismatch": "格式不正确",
    "too_short": "条目太少",
    "too_long": "条目太多",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "greater_than": "数值太小",
    "less_than": "数值太大",
    "enum": "不是允许的取值",
    "literal_error": "不是允许的取值",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
    "datetime_type": "应为日期时间 (ISO 8601)",
    "datetime_parsing": "应为日期时间 (ISO 8601)",
    "datetime_from_date_parsing": "应为日期时间 (ISO 8601)",
    "date_parsing": "应为日期 (YYYY-MM-DD)",
    "date_from_datetime_parsing": "应为日期 (YYYY-MM-DD)",
    "timezone_aware": "时间需带时区",
}


class FieldProblem(ValueError):
    """A check across fields (a model validator) that still names the field to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """A list of {field, message} for each failed field."""
    errors = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err["loc"]) or "(body)"
        message = _MESSAGES.get(err["type"])
        if message is None:
            # value_error from our own validators carries a Chinese message already.
            ctx_error = err.get("ctx", {}).get("error")
            message = str(ctx_error) if ctx_error else "内容不正确"
            if isinstance(ctx_error, FieldProblem):
                loc = ".".join(p for p in (loc if loc != "(body)" else "", ctx_error.field) if p)
        errors.append({"field": loc, "message": message})
    return errors


# C0 control characters other than tab, newline and carriage return: PostgreSQL cannot store
# NUL in text, and none of them belongs in a name, an address or a description.
# C1 controls, line/paragraph separators and bidirectional overrides and isolates too: a
# right-to-left override would show a clerk a phone number or a name reversed.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# JSON deeper than this is no form anyone fills in (and Python's recursion has a limit).
MAX_JSON_DEPTH = 32


def json_depth(data: Any) -> int:
    """How deeply lists and objects nest (iterative: any depth is measured safely)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return deepest


def control_character_field(data: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) holding a control character, else None."""
    if isinstance(data, str):
        return path or "body" if _CONTROL.search(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _CONTROL.search(key):
                return here
            found = control_character_field(value, here)
            if found:
                return found
    if isinstance(data, list):
        for i, value in enumerate(data):
            found = control_character_field(value, f"{path}.{i}" if path else str(i))
            if found:
                return found
    return None


def refuse_control_characters(data: Any) -> None:
    """422 naming the field when any string holds a control character (NUL and the like)."""
    field = control_character_field(data)
    if field is not None:
        field = _CONTROL.sub("?", field)  # a key may hold the character itself
        raise ValidationFailed(
            f"请检查以下内容：{field}: 含有不可见的控制字符，请删除后重试",
            errors=[{"field": field, "message": "含有不可见的控制字符，请删除后重试"}],
        )


def parse_model(model: type[M], data: Any) -> M:
    """Validate already-decoded data against a model; 422 with per-field messages."""
    refuse_control_characters(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = field_errors(exc)
        summary = "；".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise ValidationFailed(f"请检查以下内容：{summary}", errors=errors) from None


def parse_json_body(model: type[M], raw: bytes | None, content_type: str | None) -> M:
    """Decode a JSON request body and validate it; 400 when it is not JSON at all."""
    if content_type is not None and "json" not in content_type.lower():
        raise BadRequest(
            "请求内容应为 JSON（Content-Type: application/json）",
            status=415,
            type_slug="unsupported-media-type",
            title="不支持的内容类型",
        )
    if not raw:
        raise BadRequest("请求内容为空，应为 JSON 对象", type_slug="invalid-json")
    if len(raw) > MAX_JSON_BYTES:
        raise BadRequest(
            f"提交的内容太大（不超过 {MAX_JSON_BYTES // 1024} KB）",
            status=413,
            type_slug="payload-too-large",
            title="内容太大",
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("请求内容不是有效的 JSON", type_slug="invalid-json") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(
            f"请求内容嵌套过深（不超过 {MAX_JSON_DEPTH} 层）", type_slug="invalid-json"
        )
    if not isinstance(data, dict):
        raise BadRequest("请求内容应为 JSON 对象", type_slug="invalid-json")
    return parse_model(model, data)
