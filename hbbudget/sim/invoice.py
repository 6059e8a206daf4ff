"""An e-invoice platform simulator (发票查验): answers 正常 / 作废 / 红冲 / 不存在 / 信息不符.

Routes:
  POST /verify          {"code", "number", "date", "total"} → {"status", "checked_at"}
  POST /admin/invoices  {"code", "number", "date", "total", "status"}  register an invoice (status 正常 by default),
                        or change the status of one already registered (a later 作废 or 红冲)
  POST /admin/faults    {"kind", "count", "after"}   latency / http500 / timeout / truncate / malformed
  GET  /health

An invoice never registered is 不存在 in strict mode, else 正常 (demo mode: any invoice a user uploads checks out).
A registered invoice asked about with another date or total is 信息不符.
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime, timedelta, timezone

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hbbudget.sim.faults import Faults, admin_endpoint

CHINA = timezone(timedelta(hours=8))
STATUSES = ("正常", "作废", "红冲", "不存在", "信息不符")


def invoice_key(code: str, number: str) -> str:
    return f"{code}-{number}" if code else number


class InvoiceSim:
    def __init__(self, strict: bool = True):
        self.strict = strict
        self.invoices: dict[str, dict] = {}
        self.faults = Faults()
        self.calls = 0
        self._lock = threading.Lock()

    def register(self, code: str, number: str, date: str, total: str, status: str = "正常") -> None:
        if status not in STATUSES[:3]:
            raise ValueError(f"状态只能是 {'、'.join(STATUSES[:3])}")
        with self._lock:
            self.invoices[invoice_key(code, number)] = {"date": date, "total": total, "status": status}

    def verify(self, code: str, number: str, date: str, total: str) -> str:
        with self._lock:
            self.calls += 1
            known = self.invoices.get(invoice_key(code, number))
        if known is None:
            return "不存在" if self.strict else "正常"
        if (known["date"], known["total"]) != (date, total):
            return "信息不符"
        return known["status"]


def create_app(sim: InvoiceSim) -> Starlette:
    async def verify(request: Request) -> Response:
        fault = sim.faults.next()
        if fault == "latency":
            await asyncio.sleep(sim.faults.latency_seconds)
        elif fault == "timeout":
            await asyncio.sleep(sim.faults.timeout_seconds)
        elif fault == "http500":
            return JSONResponse({"error": "查验平台内部错误"}, status_code=500)
        try:
            data = await request.json()
            args = [str(data[k]) for k in ("code", "number", "date", "total")]
        except (KeyError, ValueError, TypeError):
            return JSONResponse({"error": "查验参数错误"}, status_code=400)
        body = json.dumps({"status": sim.verify(*args), "checked_at": datetime.now(CHINA).isoformat()},
                          ensure_ascii=False).encode()
        if fault == "malformed":
            body = b"<html>" + body
        elif fault == "truncate":
            body = body[: len(body) // 2]
        return Response(body, media_type="application/json")

    async def register(request: Request) -> Response:
        try:
            data = await request.json()
            sim.register(str(data.get("code", "")), str(data["number"]), str(data["date"]), str(data["total"]),
                         str(data.get("status", "正常")))
        except (KeyError, ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True})

    faults = admin_endpoint(sim)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "invoices": len(sim.invoices), "calls": sim.calls})

    return Starlette(routes=[
        Route("/verify", verify, methods=["POST"]),
        Route("/admin/invoices", register, methods=["POST"]),
        Route("/admin/faults", faults, methods=["POST"]),
        Route("/health", health),
    ])
