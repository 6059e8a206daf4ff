"""Fault injection shared by the simulators: on request (queued) or by setting (random rates)."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("latency", "http500", "timeout", "truncate", "malformed", "duplicate")


@dataclass
class Faults:
    """`queue` holds faults for the next requests; `rates` fires faults at random (0..1 each)."""

    rates: dict[str, float] = field(default_factory=dict)
    latency_seconds: float = 2.0
    timeout_seconds: float = 30.0
    queue: list[str | None] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """'http500:0.1,latency:0.2' → rates; unknown kinds or rates outside 0..1 are refused."""
        rates = {}
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            kind, _, rate = part.partition(":")
            if kind not in KINDS:
                raise ValueError(f"未知的故障类型：{kind}（可用：{'、'.join(KINDS)}）")
            value = float(rate or "1")
            if not 0 <= value <= 1:
                raise ValueError(f"故障比例必须在 0 到 1 之间：{part}")
            rates[kind] = value
        return cls(rates=rates)

    def inject(self, kind: str, count: int = 1, after: int = 0) -> None:
        """Fail the next `count` requests, after `after` requests served normally (e.g. the second page)."""
        if kind not in KINDS or after < 0:
            raise ValueError(kind)
        with self._lock:
            self.queue.extend([None] * min(after, 100) + [kind] * max(1, min(count, 100)))

    def next(self) -> str | None:
        """The fault for this request, if any."""
        with self._lock:
            if self.queue:
                return self.queue.pop(0)  # None: a request served normally before a queued fault
            for kind, rate in self.rates.items():
                if self.rng.random() < rate:
                    return kind
        return None


def admin_endpoint(sim):
    """POST /admin/faults {"kind", "count", "after"} for any simulator with a `faults` attribute: queue faults
    (after that many good requests); the queue in the answer."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    async def endpoint(request: Request) -> Response:
        try:
            data = await request.json()
            sim.faults.inject(str(data["kind"]), int(data.get("count", 1)), int(data.get("after", 0)))
        except (KeyError, ValueError, TypeError, AttributeError):
            return JSONResponse({"error": "故障参数错误"}, status_code=400)
        return JSONResponse({"queued": list(sim.faults.queue)})

    return endpoint
