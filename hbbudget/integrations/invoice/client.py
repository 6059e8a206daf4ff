"""HTTP client of the invoice verification platform (发票查验).

    POST {base}/verify {"code", "number", "date": "YYYY-MM-DD", "total": "1234.56"} → {"status", "checked_at"}

Any failure (status outside 2xx, timeout, no connection, a body that is not the expected JSON, a status outside
the five known) raises InvoiceError with a Chinese message.
"""

from __future__ import annotations

import json

import httpx

from hbbudget.integrations.http import client as http_client

STATUSES = ("正常", "作废", "红冲", "不存在", "信息不符")
MAX_BODY = 64 * 1024


class InvoiceError(Exception):
    """Verification failed; the message is Chinese."""


def verify(base_url: str, code: str, number: str, issued: str, total: str, *, timeout: float = 10.0,
           transport: httpx.BaseTransport | None = None) -> str:
    payload = {"code": code, "number": number, "date": issued, "total": total}
    try:
        with http_client(base_url=base_url, timeout=timeout, transport=transport) as http:
            with http.stream("POST", "/verify", json=payload) as response:
                body = b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        raise InvoiceError("发票查验平台返回内容过大")
    except httpx.TimeoutException:
        raise InvoiceError("发票查验平台超时") from None
    except httpx.HTTPError as exc:
        raise InvoiceError(f"无法连接发票查验平台（{type(exc).__name__}）") from None
    if not 200 <= response.status_code < 300:
        raise InvoiceError(f"发票查验平台返回错误 HTTP {response.status_code}")
    try:
        status = json.loads(body)["status"]
    except (ValueError, KeyError, TypeError):
        raise InvoiceError("发票查验平台返回内容无法解析") from None
    if status not in STATUSES:
        raise InvoiceError(f"发票查验平台返回未知状态：{str(status)[:20]}")
    return status
