"""HTTP client for one bank account: camt.053 statements (camt.052 intraday reports, camt.054 notifications)
and the paged JSON transaction API.

    GET {base}/accounts/{account}/camt053?from=YYYY-MM-DD     → camt.053 XML (camt052, camt054 likewise)
    GET {base}/accounts/{account}/transactions?cursor=…       → a JSON page (see jsonapi)

Every failure (a status outside 2xx, a timeout, no connection, a truncated, oversized or malformed body, a JSON
page about another account, a camt message of another type than asked for, a cursor that does not advance)
raises BankError with a Chinese message.
`timeout` bounds each network wait and the whole body read. Retries and backoff are the scheduler's job.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from urllib.parse import quote

import httpx

from hbbudget.integrations.bank.camt import parse_camt
from hbbudget.integrations.bank.jsonapi import parse_page
from hbbudget.integrations.bank.records import MAX_BYTES, BankError, BankFormatError, Statement
from hbbudget.integrations.http import client as http_client

MAX_PAGES = 1000
MESSAGES = ("camt.053", "camt.052", "camt.054")


class BankClient:
    def __init__(
        self,
        base_url: str,
        account: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        *,
        max_pages: int = MAX_PAGES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.account = account
        self._timeout = timeout
        self._max_pages = max_pages
        self._max_bytes = max_bytes
        self._http = http_client(base_url=base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> BankClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch_camt(self, since: date | None = None, message: str = "camt.053") -> list[Statement]:
        """Statements (camt.053), intraday reports (camt.052) or notifications (camt.054) from `since`."""
        if message not in MESSAGES:
            raise ValueError(f"不支持的报文类型：{message}")
        body = self._get(message.replace(".", ""), {"from": since.isoformat()} if since else {})
        try:
            statements = parse_camt(body, self._max_bytes)
        except BankFormatError as exc:
            raise BankError(f"银行接口返回的对账单无效：{exc}") from exc
        if any(s.message_type != message for s in statements):
            raise BankError(f"银行接口返回的报文类型与请求的 {message} 不符")
        return statements

    def fetch_json(self, cursor: str | None = None) -> Iterator[tuple[Statement, str | None]]:
        """Pages from `cursor` (None: the start) until next_cursor is null."""
        for _ in range(self._max_pages):
            body = self._get("transactions", {"cursor": cursor} if cursor else {})
            try:
                statement, next_cursor = parse_page(body, self._max_bytes)
            except BankFormatError as exc:
                raise BankError(f"银行接口返回的交易明细无效：{exc}") from exc
            if statement.account != self.account:
                raise BankError(f"银行接口返回了其他账户（{statement.account}）的交易明细")
            yield statement, next_cursor
            if next_cursor is None:
                return
            if next_cursor == cursor:
                raise BankError("银行接口分页游标未前进，已停止")
            cursor = next_cursor
        raise BankError(f"银行接口分页超过 {self._max_pages} 页，已停止")

    def _get(self, resource: str, params: dict[str, str]) -> bytes:
        url = f"/accounts/{quote(self.account, safe='')}/{resource}"
        deadline = time.monotonic() + self._timeout
        try:
            with self._http.stream("GET", url, params=params) as response:
                if not 200 <= response.status_code < 300:
                    raise BankError(f"银行接口返回 HTTP {response.status_code}")
                return self._read(response, deadline)
        except httpx.TimeoutException:
            raise BankError(f"银行接口超时（{self._timeout:g} 秒）") from None
        except (httpx.RemoteProtocolError, httpx.ReadError):
            raise BankError("银行接口返回的数据不完整（连接中断）") from None
        except httpx.HTTPError as exc:
            raise BankError(f"无法连接银行接口（{type(exc).__name__}）") from None

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise BankError(f"银行接口返回的数据过大（超过 {self._max_bytes} 字节）")
            if time.monotonic() > deadline:
                raise BankError(f"银行接口超时（{self._timeout:g} 秒）")
            chunks.append(chunk)
        return b"".join(chunks)
