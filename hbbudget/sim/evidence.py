"""An evidence (区块链存证-style) service simulator: anchors a hash and returns a receipt id and time signed with
its Ed25519 key (integrations/evidence/client.py).

Routes: GET /public-key, POST /anchor {"kind", "ref", "sha256"}, GET /receipts/{id}, GET /health.
"""

from __future__ import annotations

import base64
import threading
import uuid
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hbbudget.integrations.evidence.client import receipt_text

CHINA = timezone(timedelta(hours=8))


class EvidenceSim:
    def __init__(self, seed: bytes | None = None) -> None:
        self.key = Ed25519PrivateKey.from_private_bytes(seed) if seed else Ed25519PrivateKey.generate()
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key = base64.b64encode(raw).decode()
        self.receipts: dict[str, dict] = {}
        self._lock = threading.Lock()

    def anchor(self, kind: str, ref: str, sha256: str) -> dict:
        receipt_id = uuid.uuid4().hex
        anchored_at = datetime.now(CHINA).isoformat(timespec="seconds")
        signature = base64.b64encode(self.key.sign(receipt_text(receipt_id, anchored_at, kind, ref, sha256))).decode()
        receipt = {"receipt_id": receipt_id, "anchored_at": anchored_at, "signature": signature,
                   "key": self.public_key, "kind": kind, "ref": ref, "sha256": sha256}
        with self._lock:
            self.receipts[receipt_id] = receipt
        return receipt


def create_app(sim: EvidenceSim) -> Starlette:
    async def public_key(request: Request) -> Response:
        return JSONResponse({"key": sim.public_key})

    async def anchor(request: Request) -> Response:
        try:
            data = await request.json()
            kind, ref, digest = (str(data[k])[:64] for k in ("kind", "ref", "sha256"))
        except (KeyError, ValueError, TypeError):
            return JSONResponse({"error": "参数错误"}, status_code=400)
        if len(digest) != 64:
            return JSONResponse({"error": "sha256 须为 64 位十六进制"}, status_code=400)
        return JSONResponse(sim.anchor(kind, ref, digest))

    async def receipt(request: Request) -> Response:
        found = sim.receipts.get(request.path_params["rid"])
        return JSONResponse(found) if found else JSONResponse({"error": "回执不存在"}, status_code=404)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "receipts": len(sim.receipts)})

    return Starlette(routes=[
        Route("/public-key", public_key), Route("/anchor", anchor, methods=["POST"]),
        Route("/receipts/{rid}", receipt), Route("/health", health),
    ])
