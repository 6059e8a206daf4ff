"""批复 指标 pages read from the finance cloud: GET {base}/exchange/indicators?year=Y&page=N.

A page: {"FISCAL_YEAR", "PAGE_NO", "PAGE_COUNT", "RECORDS": [{"IND_ID", "MOF_DIV_CODE", "FISCAL_YEAR", "AGENCY_CODE",
"PRO_CODE", "EXP_FUNC_CODE", "DEP_BGT_ECO_CODE", "FUND_TYPE_CODE", "IND_AMT"}]} (❓ our envelope, docs/fincloud.md).
A page that is not this shape fails the fetch (FincloudError); a record that cannot be read is kept as a rejected
row with its reason. The same IND_ID served twice (a batch applied twice) counts once when identical, and fails
the fetch when the two differ.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal

import httpx

from hbbudget.integrations.fincloud.records import FUND_TYPES, MAX_BODY, FincloudError, valid_amount
from hbbudget.integrations.http import client as http_client

MAX_PAGES = 500
FUNDS = {code: name for name, code in FUND_TYPES.items()}


@dataclass(frozen=True)
class Indicator:
    ind_id: str
    agency: str
    project: str
    econ: str
    func: str
    source: str  # our 资金来源 name (财政拨款 …)
    amount: int  # fen

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return self.agency, self.project, self.econ, self.func, self.source

    def to_dict(self) -> dict:
        return asdict(self)


def _record(r: object, year: int) -> Indicator:
    if not isinstance(r, dict):
        raise ValueError("记录格式错误")
    get = {k: str(r.get(k) or "").strip() for k in ("IND_ID", "AGENCY_CODE", "PRO_CODE", "EXP_FUNC_CODE",
                                                      "DEP_BGT_ECO_CODE", "FUND_TYPE_CODE", "IND_AMT",
                                                      "FISCAL_YEAR")}
    missing = [k for k in ("IND_ID", "AGENCY_CODE", "EXP_FUNC_CODE", "DEP_BGT_ECO_CODE", "IND_AMT") if not get[k]]
    if missing:
        raise ValueError(f"缺少字段：{'、'.join(missing)}")
    if get["FISCAL_YEAR"] != str(year):
        raise ValueError(f"年度不符：{get['FISCAL_YEAR'][:8]}")
    if get["FUND_TYPE_CODE"] not in FUNDS:
        raise ValueError(f"未知的资金性质 FUND_TYPE_CODE：{get['FUND_TYPE_CODE'][:10]}")
    if not valid_amount(get["IND_AMT"]) or get["IND_AMT"].startswith("-"):
        raise ValueError(f"金额格式错误：{get['IND_AMT'][:20]}")
    return Indicator(ind_id=get["IND_ID"][:40], agency=get["AGENCY_CODE"][:32], project=get["PRO_CODE"][:32],
                     econ=get["DEP_BGT_ECO_CODE"][:5], func=get["EXP_FUNC_CODE"][:7], source=FUNDS[get["FUND_TYPE_CODE"]],
                     amount=int(Decimal(get["IND_AMT"]) * 100))


def parse_page(body: bytes, year: int, page_no: int) -> tuple[list[Indicator], list[dict], int]:
    """(indicators, rejected rows [{"ind_id", "reason"}], page count)."""
    try:
        data = json.loads(body)
        if int(data["PAGE_NO"]) != page_no or int(data["FISCAL_YEAR"]) != year:
            raise FincloudError(f"财政云返回的指标页与请求不符（第 {data['PAGE_NO']} 页）")
        count, rows = int(data["PAGE_COUNT"]), data["RECORDS"]
        if not isinstance(rows, list) or not 1 <= count <= MAX_PAGES:
            raise KeyError
    except FincloudError:
        raise
    except (ValueError, KeyError, TypeError):
        raise FincloudError(f"财政云返回的指标第 {page_no} 页无法解析") from None
    found, rejected = [], []
    for r in rows:
        try:
            found.append(_record(r, year))
        except ValueError as exc:
            rejected.append({"ind_id": str(r.get("IND_ID", ""))[:40] if isinstance(r, dict) else "",
                             "reason": str(exc)})
    return found, rejected, count


def fetch(base_url: str, year: int, timeout: float = 10.0,
          transport: httpx.BaseTransport | None = None) -> tuple[list[Indicator], list[dict]]:
    seen: dict[str, Indicator] = {}
    rejected: list[dict] = []
    with http_client(base_url=base_url, timeout=timeout, transport=transport) as http:
        page_no, count = 1, 1
        while page_no <= count:
            try:
                response = http.get("/exchange/indicators", params={"year": year, "page": page_no})
            except httpx.TimeoutException:
                raise FincloudError("财政云响应超时") from None
            except httpx.HTTPError as exc:
                raise FincloudError(f"无法连接财政云（{type(exc).__name__}）") from None
            if not 200 <= response.status_code < 300:
                raise FincloudError(f"财政云返回错误 HTTP {response.status_code}")
            if len(response.content) > MAX_BODY:
                raise FincloudError("财政云返回内容过大")
            found, bad, count = parse_page(response.content, year, page_no)
            rejected += bad
            for ind in found:
                if ind.ind_id in seen and seen[ind.ind_id] != ind:
                    raise FincloudError(f"财政云返回的指标 {ind.ind_id} 出现两次且内容不同")
                seen[ind.ind_id] = ind
            page_no += 1
    return list(seen.values()), rejected
