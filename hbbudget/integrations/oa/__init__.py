"""OA adapters (httpx clients, no database): a DingTalk-style instance model and a WeCom-style sp_status model.

Both answer with one normalized outcome: running / agree / refuse / terminated (withdrawn before a decision) /
revoked (withdrawn after approval)."""

from hbbudget.integrations.oa.adapters import ADAPTERS, OUTCOMES, Adapter, OaError, sign, verify

__all__ = ["ADAPTERS", "OUTCOMES", "Adapter", "OaError", "sign", "verify"]
