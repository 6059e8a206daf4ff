"""An OA simulator: DingTalk-style process instances and WeCom-style sp_status approvals for one unit, deciding
on request and calling the app back with signed callbacks. Faults: latency, HTTP 500, timeouts, malformed bodies
(on the API, see sim/faults.py); duplicate and out-of-order callbacks, and a revoked-after-approval instance.

Routes:
  POST /dingtalk/processinstance            {"process_code", "title", "amount", "originator"} → process_instance_id
  GET  /dingtalk/processinstance/{id}       {"process_instance": {"status": RUNNING|COMPLETED|TERMINATED, "result"}}
  POST /wecom/applyevent                    {"template_id", "apply_data", "creator_userid"} → {"errcode": 0, "sp_no"}
  POST /wecom/getapprovaldetail             {"sp_no"} → {"errcode": 0, "info": {"sp_no", "sp_status"}}
  POST /admin/decide   {"id", "outcome": agree|refuse|terminated|revoked, "callback": true, "duplicate": false,
                        "out_of_order": false}   decide an instance (and call back)
  POST /admin/faults   {"kind", "count", "after"}
  GET  /admin/instances                     every instance and its state
  GET  /health
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
import time

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hbbudget.integrations.oa import sign
from hbbudget.sim.faults import Faults, admin_endpoint

WECOM = {"agree": 2, "refuse": 3, "terminated": 4, "revoked": 6}


class OaSim:
    """The simulated OA's instances (thread-safe); `callback_url`, `org_code` and `secret` sign callbacks."""

    def __init__(self, org_code: str = "", secret: str = "", callback_url: str = ""):
        self.org_code, self.secret, self.callback_url = org_code, secret, callback_url
        self.instances: dict[str, dict] = {}
        self.faults = Faults(timeout_seconds=10.0, latency_seconds=0.5)
        self.sent: list[int] = []  # HTTP status of every callback sent
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def create(self, style: str, title: str) -> str:
        with self._lock:
            n = next(self._seq)
            iid = f"PROC-{n:06d}" if style == "dingtalk" else f"2027{n:08d}"
            self.instances[iid] = {"style": style, "title": title, "outcome": "running"}
            return iid

    def state(self, iid: str) -> dict | None:
        with self._lock:
            inst = self.instances.get(iid)
            return dict(inst) if inst else None

    def decide(self, iid: str, outcome: str) -> dict:
        with self._lock:
            inst = self.instances.get(iid)
            if inst is None:
                raise KeyError(iid)
            if outcome == "revoked" and (inst["style"] != "wecom" or inst["outcome"] != "agree"):
                raise ValueError("只有企业微信式已通过的审批可以撤销")
            if outcome not in WECOM:
                raise ValueError(outcome)
            inst["outcome"] = outcome
            return dict(inst)

    @staticmethod
    def dingtalk_view(outcome: str) -> dict:
        if outcome == "running":
            return {"status": "RUNNING", "result": ""}
        if outcome == "terminated":
            return {"status": "TERMINATED", "result": ""}
        return {"status": "COMPLETED", "result": outcome}

    def callback_body(self, iid: str, outcome: str) -> bytes:
        style = self.instances[iid]["style"]
        if style == "dingtalk":
            data = {"processInstanceId": iid, "type": "finish", **self.dingtalk_view(outcome)}
        else:
            data = {"SpNo": iid, "SpStatus": 1 if outcome == "running" else WECOM[outcome]}
        return json.dumps(data).encode()

    def send_callback(self, iid: str, outcome: str, *, secret: str | None = None, timestamp: int | None = None,
                      nonce: str | None = None) -> int:
        """POST one signed callback; returns the HTTP status (0 when the app could not be reached)."""
        body = self.callback_body(iid, outcome)
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_hex(8)
        headers = {"content-type": "application/json", "x-oa-org": self.org_code, "x-oa-timestamp": ts,
                   "x-oa-nonce": nonce, "x-oa-signature": sign(secret or self.secret, ts, nonce, body)}
        try:
            status = httpx.post(self.callback_url, content=body, headers=headers, timeout=10).status_code
        except httpx.HTTPError:
            status = 0
        self.sent.append(status)
        return status


def create_app(sim: OaSim) -> Starlette:
    async def faulty(data: dict) -> Response:
        fault = sim.faults.next()
        if fault == "latency":
            await asyncio.sleep(sim.faults.latency_seconds)
        elif fault == "timeout":
            await asyncio.sleep(sim.faults.timeout_seconds)
        elif fault == "http500":
            return Response("internal error", status_code=500)
        elif fault in ("malformed", "truncate"):
            return Response("<html>网关错误", media_type="text/html")
        return JSONResponse(data)

    async def body(request: Request) -> dict:
        try:
            data = json.loads(await request.body())
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    async def ding_create(request: Request) -> Response:
        data = await body(request)
        return await faulty({"errcode": 0, "process_instance_id": sim.create("dingtalk", str(data.get("title", "")))})

    async def ding_get(request: Request) -> Response:
        inst = sim.state(request.path_params["iid"])
        if inst is None or inst["style"] != "dingtalk":
            return JSONResponse({"errcode": 404, "errmsg": "实例不存在"}, status_code=404)
        return await faulty({"errcode": 0, "process_instance": sim.dingtalk_view(inst["outcome"])})

    async def wecom_create(request: Request) -> Response:
        data = await body(request)
        title = str((data.get("apply_data") or {}).get("title", "")) if isinstance(data.get("apply_data"), dict) else ""
        return await faulty({"errcode": 0, "errmsg": "ok", "sp_no": sim.create("wecom", title)})

    async def wecom_get(request: Request) -> Response:
        inst = sim.state(str((await body(request)).get("sp_no", "")))
        if inst is None or inst["style"] != "wecom":
            return await faulty({"errcode": 301, "errmsg": "sp_no 不存在"})
        code = 1 if inst["outcome"] == "running" else WECOM[inst["outcome"]]
        return await faulty({"errcode": 0, "errmsg": "ok", "info": {"sp_status": code}})

    async def decide(request: Request) -> Response:
        data = await body(request)
        iid, outcome = str(data.get("id", "")), str(data.get("outcome", ""))
        try:
            sim.decide(iid, outcome)
        except KeyError:
            return JSONResponse({"error": "实例不存在"}, status_code=404)
        except ValueError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        sent = []
        if data.get("callback", True) and sim.callback_url:
            sent.append(await asyncio.to_thread(sim.send_callback, iid, outcome))
            if data.get("duplicate"):
                sent.append(await asyncio.to_thread(sim.send_callback, iid, outcome))
            if data.get("out_of_order"):  # a late "still running" arrives after the decision
                sent.append(await asyncio.to_thread(sim.send_callback, iid, "running"))
        return JSONResponse({"id": iid, "outcome": outcome, "callbacks": sent})

    faults = admin_endpoint(sim)

    async def instances(request: Request) -> Response:
        with sim._lock:
            return JSONResponse({k: dict(v) for k, v in sim.instances.items()})

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/dingtalk/processinstance", ding_create, methods=["POST"]),
        Route("/dingtalk/processinstance/{iid}", ding_get),
        Route("/wecom/applyevent", wecom_create, methods=["POST"]),
        Route("/wecom/getapprovaldetail", wecom_get, methods=["POST"]),
        Route("/admin/decide", decide, methods=["POST"]),
        Route("/admin/faults", faults, methods=["POST"]),
        Route("/admin/instances", instances),
        Route("/health", health),
    ])
