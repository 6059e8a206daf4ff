"""HTTP client of the finance cloud's exchange API (simulated by `hbbudget sim --fincloud`).

    POST {base}/exchange/budgets   one page (records.pages) → the answer (records.parse_ack)

Every failure (timeout, no connection, a status outside 2xx, an answer that is not the expected JSON) raises
FincloudError with a Chinese message; retrying is the scheduler's job, and is safe: pages are idempotent.
"""

from __future__ import annotations

import httpx

from hbbudget.integrations.fincloud.records import MAX_BODY, Ack, FincloudError, parse_ack
from hbbudget.integrations.http import client as http_client


def send_page(http: httpx.Client, page: dict) -> Ack:
    try:
        with http.stream("POST", "/exchange/budgets", json=page) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    raise FincloudError("财政云返回内容过大")
    except httpx.TimeoutException:
        raise FincloudError("财政云响应超时") from None
    except httpx.HTTPError as exc:
        raise FincloudError(f"无法连接财政云（{type(exc).__name__}）") from None
    if not 200 <= response.status_code < 300:
        raise FincloudError(f"财政云返回错误 HTTP {response.status_code}")
    return parse_ack(body, page["BATCH_ID"], page["PAGE_NO"])


def send_batch(base_url: str, batch: list[dict], timeout: float = 10.0,
               transport: httpx.BaseTransport | None = None) -> list[Ack]:
    with http_client(base_url=base_url, timeout=timeout, transport=transport) as http:
        return [send_page(http, page) for page in batch]
