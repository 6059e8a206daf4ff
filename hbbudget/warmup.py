"""Heavy imports done in the background when the server starts, so the first user of a page does not pay them
(issue 12: statsmodels, imported on the first forecast, made the first visit to 趋势与穿透 take 1.4 s longer)."""

from __future__ import annotations

import importlib
import logging
import threading
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)
MODULES = ("statsmodels.tsa.holtwinters", "scipy.cluster.vq")  # services/analysis/forecast.py imports them lazily


def _import_all() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # the forecast reports its own error when used
            log.exception("warm-up import of %s failed", name)


@asynccontextmanager
async def lifespan():
    """The Reflex lifespan task: the imports run in a thread; the server does not wait for them."""
    threading.Thread(target=_import_all, name="hbb-warmup", daemon=True).start()
    yield
