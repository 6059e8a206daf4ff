"""A finance-cloud (财政云 预算管理一体化) exchange simulator.

Routes:
  POST /exchange/budgets      one page of budget records (integrations/fincloud/records.py); each record is checked
                              (known field names, 9-digit MOF_DIV_CODE, known classification and fund codes,
                              amounts as 元 text); bad rows are rejected with a reason, good rows stored. A page
                              already received (same BATCH_ID and PAGE_NO) is answered again with DUPLICATE and
                              stores nothing new.
  GET  /exchange/budgets      {"batches": {batch: rows stored}, "records": n}
  GET  /exchange/indicators?year=Y&page=N   批复 指标 pages of 100 (integrations/fincloud/indicators.py); the
                              duplicate fault serves a page's first record twice
  POST /admin/indicators      {"records": [...]}: replace the 指标 the cloud serves
  POST /admin/faults          {"kind", "count", "after"}: latency, http500, timeout, truncate, malformed, and
                              duplicate (the page is applied twice, as a cloud that retried internally would)
  GET  /health
"""

from __future__ import annotations

import asyncio
import json
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hbbudget.integrations.fincloud.records import FIELDS, FUND_TYPES, valid_amount
from hbbudget.sim.faults import Faults, admin_endpoint

FUNC_CLASSES = {"201", "202", "203", "204", "205", "206", "207", "208", "210", "211", "212", "213", "214", "215",
                "216", "217", "219", "220", "221", "222", "224", "227", "229", "230", "231", "232", "233"}
DEPT_ECON_CLASSES = {"301", "302", "303", "307", "309", "310", "311", "312", "313", "399"}
AMOUNTS = ("APPLY_UP", "REPLY_AMT", "ADJ_AMT", "CUR_AMT")


def check(record: object) -> str:
    """Why the cloud refuses a record ("" when it takes it)."""
    if not isinstance(record, dict):
        return "记录格式错误"
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        return f"未知字段：{'、'.join(unknown)[:60]}"
    missing = [f for f in ("MOF_DIV_CODE", "FISCAL_YEAR", "AGENCY_CODE", "EXP_FUNC_CODE", "DEP_BGT_ECO_CODE",
                           "FUND_TYPE_CODE", "CUR_AMT") if not record.get(f)]
    if missing:
        return f"缺少字段：{'、'.join(missing)}"
    div = str(record["MOF_DIV_CODE"])
    if not (div.isdigit() and len(div) == 9):
        return f"财政区划 MOF_DIV_CODE 应为 9 位数字：{div[:20]}"
    func = str(record["EXP_FUNC_CODE"])
    if not (func.isdigit() and len(func) == 7 and func[:3] in FUNC_CLASSES):
        return f"未知的支出功能分类 EXP_FUNC_CODE：{func[:20]}"
    econ = str(record["DEP_BGT_ECO_CODE"])
    if not (econ.isdigit() and len(econ) == 5 and econ[:3] in DEPT_ECON_CLASSES):
        return f"未知的部门预算经济分类 DEP_BGT_ECO_CODE：{econ[:20]}"
    gov = str(record.get("GOV_BGT_ECO_CODE") or "")
    if gov and not (gov.isdigit() and len(gov) == 5 and gov.startswith("5")):
        return f"未知的政府预算经济分类 GOV_BGT_ECO_CODE：{gov[:20]}"
    if record["FUND_TYPE_CODE"] not in FUND_TYPES.values():
        return f"未知的资金性质 FUND_TYPE_CODE：{str(record['FUND_TYPE_CODE'])[:20]}"
    bad = [f for f in AMOUNTS if f in record and not valid_amount(record[f])]
    if bad:
        return f"金额格式错误：{'、'.join(bad)}"
    return ""


class FincloudSim:
    def __init__(self) -> None:
        self.pages: dict[tuple[str, int], dict] = {}  # (batch, page) → the answer given
        self.records: dict[tuple[str, int], list[dict]] = {}
        self.indicators: list[dict] = []
        self.faults = Faults()
        self._lock = threading.Lock()

    def apply(self, page: dict) -> dict:
        batch, page_no = str(page["BATCH_ID"])[:64], int(page["PAGE_NO"])
        rows = page["RECORDS"]
        if not isinstance(rows, list):
            raise ValueError("RECORDS")
        with self._lock:
            known = self.pages.get((batch, page_no))
            if known is not None:
                return {**known, "DUPLICATE": True}
            rejected, kept = [], []
            for n, record in enumerate(rows, 1):
                reason = check(record)
                if reason:
                    rejected.append({"ROW": n, "REASON": reason})
                else:
                    kept.append(record)
            answer = {"BATCH_ID": batch, "PAGE_NO": page_no, "ACCEPTED": len(kept), "REJECTED": rejected,
                      "DUPLICATE": False}
            self.pages[(batch, page_no)], self.records[(batch, page_no)] = answer, kept
            return answer

    def stored(self) -> dict:
        with self._lock:
            batches: dict[str, int] = {}
            for (batch, _), rows in self.records.items():
                batches[batch] = batches.get(batch, 0) + len(rows)
            return {"batches": batches, "records": sum(batches.values())}


    def set_indicators(self, records: list[dict]) -> None:
        with self._lock:
            self.indicators = list(records)

    def indicator_page(self, year: int, page_no: int, size: int = 100) -> dict:
        with self._lock:
            rows = [r for r in self.indicators if str(r.get("FISCAL_YEAR")) == str(year)]
        count = max(1, -(-len(rows) // size))
        return {"FISCAL_YEAR": year, "PAGE_NO": page_no, "PAGE_COUNT": count,
                "RECORDS": rows[(page_no - 1) * size: page_no * size]}


async def _fault(sim: FincloudSim) -> tuple[str | None, Response | None]:
    fault = sim.faults.next()
    if fault == "latency":
        await asyncio.sleep(sim.faults.latency_seconds)
    elif fault == "timeout":
        await asyncio.sleep(sim.faults.timeout_seconds)
    elif fault == "http500":
        return fault, JSONResponse({"error": "财政云内部错误"}, status_code=500)
    return fault, None


def _spoil(body: bytes, fault: str | None) -> bytes:
    if fault == "malformed":
        return b"<html>" + body
    if fault == "truncate":
        return body[: len(body) // 2]
    return body


def create_app(sim: FincloudSim) -> Starlette:
    async def receive(request: Request) -> Response:
        fault, failed = await _fault(sim)
        if failed is not None:
            return failed
        try:
            page = await request.json()
            answer = sim.apply(page)
            if fault == "duplicate":
                answer = sim.apply(page)
        except (KeyError, ValueError, TypeError):
            return JSONResponse({"error": "数据页格式错误"}, status_code=400)
        body = json.dumps(answer, ensure_ascii=False).encode()
        return Response(_spoil(body, fault), media_type="application/json")

    async def indicators(request: Request) -> Response:
        fault, failed = await _fault(sim)
        if failed is not None:
            return failed
        try:
            page = sim.indicator_page(int(request.query_params["year"]), int(request.query_params.get("page", 1)))
        except (KeyError, ValueError):
            return JSONResponse({"error": "参数错误"}, status_code=400)
        if fault == "duplicate" and page["RECORDS"]:
            page["RECORDS"] = [page["RECORDS"][0], *page["RECORDS"]]
        return Response(_spoil(json.dumps(page, ensure_ascii=False).encode(), fault), media_type="application/json")

    async def set_indicators(request: Request) -> Response:
        data = await request.json()
        if not isinstance(data.get("records"), list):
            return JSONResponse({"error": "records"}, status_code=400)
        sim.set_indicators(data["records"])
        return JSONResponse({"ok": True, "records": len(sim.indicators)})

    async def stored(request: Request) -> Response:
        return JSONResponse(sim.stored())

    faults = admin_endpoint(sim)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/exchange/budgets", receive, methods=["POST"]),
        Route("/exchange/budgets", stored, methods=["GET"]),
        Route("/exchange/indicators", indicators),
        Route("/admin/indicators", set_indicators, methods=["POST"]),
        Route("/admin/faults", faults, methods=["POST"]),
        Route("/health", health),
    ])
