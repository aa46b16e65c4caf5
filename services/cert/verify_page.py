"""The page a phone shows after scanning a certificate's QR code: the verification result as HTML."""

from html import escape

from aiohttp import web

from .schemas import VerificationView

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>电子证书核验 / Certificate verification</title>
<style>body{{font-family:sans-serif;margin:1.5em;max-width:36em}} .result{{font-size:1.4em;color:{color}}}
th{{text-align:left;padding-right:1em;font-weight:normal;color:#555}}</style></head>
<body>
<h1>吉林省人才分类定级证书核验<br><small>Jilin talent certificate verification</small></h1>
<p class="result">{result}</p>
{details}
</body></html>
"""


def wants_html(request: web.Request) -> bool:
    """True when the client, typically a phone's browser, ranks HTML above JSON."""
    accept = request.headers.get("Accept", "")
    if "text/html" not in accept:
        return False
    return "json" not in accept or accept.index("text/html") < accept.index("json")


def verification_page(view: VerificationView) -> web.Response:
    rows = [
        ("证书编号 Certificate No.", view.certificate_number),
        ("持证人 Holder", view.holder_name),
        ("人才类别 Class", view.class_label),
        ("人才层次 Level", f"第{'一二三'[view.level - 1]}层次 (Level {view.level})"),
        ("颁发机构 Issuer", view.issuer_name),
        ("颁发日期 Issued on", view.issued_on.isoformat()),
    ]
    details = "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    details += "</table>"
    if view.valid:
        result, color = "✔ 证书有效 / The certificate is valid", "#1a7f37"
    else:
        result, color = "✘ 证书已失效 / The certificate is no longer valid", "#b42318"
    return _page(result, color, details, status=200)


def not_found_page() -> web.Response:
    return _page("未找到该核验码对应的证书 / No certificate has this verification code", "#b42318",
                 "<p>请核对证书二维码下方的核验码后重试。Check the code printed under the certificate's QR code.</p>",
                 status=404)


def _page(result: str, color: str, details: str, status: int) -> web.Response:
    body = _PAGE.format(result=escape(result), color=color, details=details)
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
