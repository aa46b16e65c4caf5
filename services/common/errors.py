"""API errors as RFC 9457 problem details, in Chinese by default and English on request.

Each stable error code maps to a title and a detail template in both languages. Services add their
own codes with `register_messages`; handlers raise `ApiError(status, code, **params)`.
"""

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import ValidationError

PROBLEM_CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Message:
    zh: str
    en: str
    detail_zh: str = ""
    detail_en: str = ""


_CATALOG: dict[str, Message] = {}


def register_messages(messages: dict[str, Message]) -> None:
    _CATALOG.update(messages)


def message_for(code: str) -> Message:
    return _CATALOG.get(code) or _CATALOG["internal_error"]


def preferred_language(request: web.Request) -> str:
    """Return "en" when Accept-Language ranks English first, else "zh"."""
    ranked: list[tuple[float, str]] = []
    for index, item in enumerate(request.headers.get("Accept-Language", "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            ranked.append((-quality, index, tag.lower()))  # type: ignore[arg-type]
    ranked.sort()
    return "en" if ranked and ranked[0][2].startswith("en") else "zh"


@dataclass
class FieldError:
    field: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    module: str | None = None

    def render(self, language: str) -> dict[str, Any]:
        message = message_for(self.code)
        template = message.en if language == "en" else message.zh
        rendered = {"field": self.field, "code": self.code, "message": _format(template, self.params)}
        if self.module is not None:
            rendered = {"module": self.module, **rendered}
        return rendered


class ApiError(Exception):
    """An error with an HTTP status and a stable code, rendered as problem details at the edge."""

    def __init__(self, status: int, code: str, *, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                 **params: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.params = params
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra or {}

    def to_problem(self, language: str, instance: str | None = None) -> dict[str, Any]:
        message = message_for(self.code)
        title = message.en if language == "en" else message.zh
        detail = message.detail_en if language == "en" else message.detail_zh
        problem: dict[str, Any] = {
            "type": f"urn:talent:error:{self.code}",
            "title": title,
            "status": self.status,
            "detail": _format(detail or title, self.params),
            "code": self.code,
        }
        if instance:
            problem["instance"] = instance
        if self.errors:
            problem["errors"] = [error.render(language) for error in self.errors]
        problem.update(self.extra)
        return problem


def _format(template: str, params: dict[str, Any]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def problem_response(request: web.Request, error: ApiError) -> web.Response:
    language = preferred_language(request)
    # Behind the gateway the client's path is the gateway's prefix plus the service's own path.
    instance = request.headers.get("X-Forwarded-Prefix", "") + request.path
    problem = error.to_problem(language, instance=instance)
    problem["request_id"] = request.get("request_id")
    response = web.json_response(problem, status=error.status, content_type=PROBLEM_CONTENT_TYPE,
                                 dumps=_dumps)
    response.headers.update(error.headers)
    response.headers["Content-Language"] = "en" if language == "en" else "zh-CN"
    return response


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


# Pydantic error types that get their own message; anything else falls back to "invalid".
_PYDANTIC_CODES = {
    "missing": "validation.missing",
    "string_too_short": "validation.too_short",
    "string_too_long": "validation.too_long",
    "too_short": "validation.too_few",
    "too_long": "validation.too_many",
    "literal_error": "validation.not_allowed",
    "enum": "validation.not_allowed",
    "date_from_datetime_parsing": "validation.date",
    "date_parsing": "validation.date",
    "date_type": "validation.date",
    "datetime_parsing": "validation.datetime",
    "datetime_from_date_parsing": "validation.datetime",
    "datetime_type": "validation.datetime",
    "int_parsing": "validation.integer",
    "int_type": "validation.integer",
    "greater_than_equal": "validation.too_small",
    "less_than_equal": "validation.too_large",
    "bool_parsing": "validation.boolean",
    "bool_type": "validation.boolean",
    "string_type": "validation.string",
    "uuid_parsing": "validation.uuid",
    "uuid_type": "validation.uuid",
    "extra_forbidden": "validation.unknown_field",
    "string_pattern_mismatch": "validation.pattern",
    "model_type": "validation.object",
    "model_attributes_type": "validation.object",
    "list_type": "validation.list",
}


def field_errors_from_pydantic(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """Translate pydantic errors; custom errors raised with `PydanticCustomError` keep their type."""
    result = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"] if part != "__root__")
        kind = item["type"]
        code = kind if kind in _CATALOG else _PYDANTIC_CODES.get(kind, "validation.invalid")
        params = dict(item.get("ctx") or {})
        params.setdefault("input", item.get("input") if isinstance(item.get("input"), str | int) else "")
        result.append(FieldError(field=f"{prefix}{path}" or "body", code=code, params=params))
    return result


register_messages({
    "internal_error": Message("服务器内部错误，请稍后重试", "Internal server error, please try again later"),
    "service_unavailable": Message(
        "服务暂时不可用", "Service temporarily unavailable",
        "{dependency}暂时无法访问，请稍后重试，已保存的内容不受影响。",
        "{dependency} cannot be reached right now; please retry later. Saved data is not affected."),
    "not_found": Message("请求的资源不存在", "Resource not found"),
    "method_not_allowed": Message("不支持该请求方法", "Method not allowed"),
    "body_too_large": Message("请求内容过大", "Request body too large",
                              "请求内容超过 {limit} 字节上限，请减小后重试。",
                              "The request body exceeds the {limit}-byte limit; send less data."),
    "validation_failed": Message("提交的数据未通过校验", "The submitted data is invalid",
                                 "请按 errors 中列出的字段逐项修改后重新提交。",
                                 "Correct each field listed in errors and send the request again."),
    "invalid_json": Message("请求内容不是有效的 JSON", "The request body is not valid JSON",
                            "请以 JSON 格式提交请求内容。", "Send the request body as JSON."),
    "auth.required": Message("请先登录", "Sign-in required", "该操作需要登录，请登录后重试。",
                             "This action needs a signed-in user; sign in and retry."),
    "auth.invalid_token": Message("登录凭证无效或已过期", "Invalid or expired access token",
                                  "请重新登录。", "Sign in again."),
    "auth.forbidden": Message("无权执行该操作", "Not allowed",
                              "当前账号无权访问该资源。", "Your account may not access this resource."),
    "idempotency.conflict": Message("该幂等键已用于其他请求", "Idempotency key reused with other data",
                                    "请为不同的请求使用不同的 Idempotency-Key。",
                                    "Use a new Idempotency-Key for a different request."),
    "idempotency.key_invalid": Message("Idempotency-Key 请求头无效", "Invalid Idempotency-Key header",
                                       "Idempotency-Key 应为 1 至 200 个可见 ASCII 字符，不含空格，例如 UUID。",
                                       "Send an Idempotency-Key of 1 to 200 visible ASCII characters without"
                                       " spaces, such as a UUID."),
    "validation.missing": Message("必填项，请填写", "Required; please fill it in"),
    "validation.invalid": Message("填写内容无效，请检查后重新填写", "Invalid value; check and correct it"),
    "validation.too_short": Message("内容过短，至少 {min_length} 个字符",
                                    "Too short; at least {min_length} characters"),
    "validation.too_long": Message("内容过长，最多 {max_length} 个字符", "Too long; at most {max_length} characters"),
    "validation.too_few": Message("至少需要 {min_length} 条", "At least {min_length} entries are needed"),
    "validation.too_many": Message("最多填写 {max_length} 条", "At most {max_length} entries are allowed"),
    "validation.not_allowed": Message("请从可选项中选择：{expected}", "Choose one of: {expected}"),
    "validation.date": Message("日期格式应为 YYYY-MM-DD", "Use a date in the form YYYY-MM-DD"),
    "validation.datetime": Message("时间格式应为 RFC 3339，例如 2026-01-01T08:00:00+08:00",
                                   "Use an RFC 3339 time such as 2026-01-01T08:00:00+08:00"),
    "validation.integer": Message("请填写整数", "Use a whole number"),
    "validation.too_small": Message("数值不能小于 {ge}", "Must be at least {ge}"),
    "validation.too_large": Message("数值不能大于 {le}", "Must be at most {le}"),
    "validation.boolean": Message("请填写 true 或 false", "Use true or false"),
    "validation.string": Message("请填写文字", "Use text"),
    "validation.uuid": Message("编号格式无效", "Invalid identifier format"),
    "validation.unknown_field": Message("不支持的字段，请删除", "Unknown field; remove it"),
    "validation.pattern": Message("格式不正确", "Invalid format"),
    "validation.object": Message("应为 JSON 对象", "Use a JSON object"),
    "validation.list": Message("应为列表", "Use a list"),
})
