"""A small client of the public API for tests and the demo: sign-up, sign-in and JSON calls.

`Portal` addresses each service by a base URL: the service itself in integration tests, or
`<gateway>/api/v1/<service>` in end-to-end tests and the demo.
"""

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import aiohttp

from services.common.validators import id_number_check_char, uscc_check_char


class ApiFailure(AssertionError):
    def __init__(self, method: str, url: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {url} answered {status}: {body}")
        self.status = status
        self.body = body


@dataclass
class Portal:
    http: aiohttp.ClientSession
    bases: dict[str, str]
    token: str | None = None
    language: str = "zh-CN"
    headers: dict[str, str] = field(default_factory=dict)
    refresh_token: str | None = None

    @classmethod
    def through_gateway(cls, http: aiohttp.ClientSession, gateway: str, **kwargs) -> "Portal":
        services = ("identity", "binding", "application", "files", "review", "cert")
        return cls(http, {name: f"{gateway}/api/v1/{name}" for name in services}, **kwargs)

    def as_user(self, token: str | None) -> "Portal":
        return Portal(self.http, self.bases, token, self.language)

    def url(self, service: str, path: str) -> str:
        return self.bases[service] + path

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept-Language": self.language, **self.headers}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    async def request(self, method: str, service: str, path: str, *, expect: int | tuple[int, ...] | None = None,
                      headers: dict[str, str] | None = None, **kwargs) -> tuple[int, Any]:
        url = self.url(service, path)
        async with self.http.request(method, url, headers=self._headers(headers), **kwargs) as response:
            raw = await response.read()
            kind = response.headers.get("Content-Type", "")
            body: Any = raw
            if "json" in kind and raw:
                body = await response.json(content_type=None)
            status = response.status
        expected = (expect,) if isinstance(expect, int) else expect
        if expected is not None and status not in expected:
            raise ApiFailure(method, url, status, body)
        return status, body

    async def get(self, service: str, path: str, expect=200, **kwargs) -> Any:
        return (await self.request("GET", service, path, expect=expect, **kwargs))[1]

    async def post(self, service: str, path: str, json: Any = None, expect=(200, 201, 202, 204), **kwargs) -> Any:
        return (await self.request("POST", service, path, expect=expect, json=json, **kwargs))[1]

    async def put(self, service: str, path: str, json: Any = None, expect=200, **kwargs) -> Any:
        return (await self.request("PUT", service, path, expect=expect, json=json, **kwargs))[1]

    async def delete(self, service: str, path: str, expect=(200, 204), **kwargs) -> Any:
        return (await self.request("DELETE", service, path, expect=expect, **kwargs))[1]

    # identity helpers, built on the development endpoints for captcha answers and SMS codes

    async def solve_captcha(self) -> dict[str, str]:
        captcha = await self.get("identity", "/captcha")
        answer = await self.get("identity", f"/dev/captcha/{captcha['captcha_id']}")
        return {"captcha_id": captcha["captcha_id"], "captcha_answer": answer["answer"]}

    async def sms_code(self, mobile: str, purpose: str = "register") -> str:
        await self.post("identity", "/sms-codes", {"mobile": mobile, "purpose": purpose,
                                                   **await self.solve_captcha()}, expect=202)
        sent = await self.get("identity", "/dev/sms", params={"mobile": mobile})
        return sent["messages"][0]["code"]

    async def register_person(self, person: dict[str, Any]) -> str:
        code = await self.sms_code(person["mobile"])
        body = {key: person[key] for key in ("mobile", "real_name", "id_number", "password")}
        created = await self.post("identity", "/registrations", {**body, "sms_code": code}, expect=201)
        return created["user_id"]

    async def register_unit(self, unit: dict[str, Any]) -> str:
        code = await self.sms_code(unit["contact_mobile"])
        body = {key: unit[key] for key in ("uscc", "unit_name", "contact_name", "contact_mobile", "password")}
        created = await self.post("identity", "/unit-registrations", {**body, "sms_code": code}, expect=201)
        return created["user_id"]

    async def login(self, account: str, password: str, channel: str = "web") -> "Portal":
        tokens = await self.post("identity", "/sessions", {"account": account, "password": password,
                                                           "channel": channel, **await self.solve_captcha()},
                                 expect=201)
        signed_in = self.as_user(tokens["access_token"])
        signed_in.refresh_token = tokens["refresh_token"]
        return signed_in


def random_id_number(birth: date | None = None, area: str = "220104") -> str:
    """A 公民身份号码 with a valid check character and a plausible birth date."""
    birth = birth or date(random.randint(1970, 1995), random.randint(1, 12), random.randint(1, 28))
    first17 = f"{area}{birth:%Y%m%d}{random.randint(0, 999):03d}"
    return first17 + id_number_check_char(first17)


def random_mobile() -> str:
    return f"1{random.choice('3589')}{random.randint(0, 999_999_999):09d}"


def random_uscc(region: str = "220100") -> str:
    """A 统一社会信用代码 with a valid check character for a company (登记管理部门 9, 类别 1)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(random.choice(alphabet[:10]) for _ in range(8)) + random.choice(alphabet)
    first17 = f"91{region}{body}"
    return first17 + uscc_check_char(first17)


def new_person(**overrides) -> dict[str, Any]:
    person = {"real_name": "李晓明", "id_number": random_id_number(), "mobile": random_mobile(),
              "password": "Jilin#2026talent"}
    return {**person, **overrides}


def new_unit(**overrides) -> dict[str, Any]:
    unit = {"uscc": random_uscc(), "unit_name": "长春新材料科技有限公司", "contact_name": "王芳",
            "contact_mobile": random_mobile(), "password": "Unit#2026secure"}
    return {**unit, **overrides}
