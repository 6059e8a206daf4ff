"""The 预算管理一体化 data-exchange records we send to the provincial finance cloud (财政云), their pages, and the
cloud's answer. Field names: docs/fincloud.md says which are confirmed by public specs and which are ours.

A page: {"BATCH_ID", "PAGE_NO" (1-based), "PAGE_COUNT", "RECORDS": [...]}; amounts are 元 text with two decimals
("1234.56"), never floats. The answer: {"BATCH_ID", "PAGE_NO", "ACCEPTED", "REJECTED": [{"ROW", "REASON"}],
"DUPLICATE": bool} — DUPLICATE when the cloud already had this page (re-sending is idempotent).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

PAGE_SIZE = 200
MAX_BODY = 2 * 1024 * 1024
FIELDS = ("MOF_DIV_CODE", "FISCAL_YEAR", "AGENCY_CODE", "AGENCY_NAME", "PRO_CODE", "PRO_NAME", "PRO_KIND_CODE",
          "EXP_FUNC_CODE", "DEP_BGT_ECO_CODE", "GOV_BGT_ECO_CODE", "FUND_TYPE_CODE", "APPLY_UP", "REPLY_AMT",
          "ADJ_AMT", "CUR_AMT")
# our assumption (no public code list found): 资金来源 → FUND_TYPE_CODE
FUND_TYPES = {"财政拨款": "11", "事业收入": "21", "经营收入": "22", "其他": "29"}
_YUAN = re.compile(r"-?\d{1,15}\.\d{2}")


class FincloudError(Exception):
    """Talking to the finance cloud failed, or its answer is not what the exchange expects (Chinese message)."""


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def pages(batch_id: str, records: list[dict], page_size: int = PAGE_SIZE) -> list[dict]:
    chunks = [records[i:i + page_size] for i in range(0, len(records), page_size)] or [[]]
    return [{"BATCH_ID": batch_id, "PAGE_NO": n, "PAGE_COUNT": len(chunks), "RECORDS": chunk}
            for n, chunk in enumerate(chunks, 1)]


@dataclass
class Ack:
    accepted: int
    duplicate: bool
    rejected: list[dict] = field(default_factory=list)  # {"row": n (1-based in the page), "reason": text}


def parse_ack(body: bytes, batch_id: str, page_no: int) -> Ack:
    if len(body) > MAX_BODY:
        raise FincloudError("财政云返回内容过大")
    try:
        data = json.loads(body)
        if data["BATCH_ID"] != batch_id or int(data["PAGE_NO"]) != page_no:
            raise FincloudError(f"财政云回执与所发批次不符（{str(data['BATCH_ID'])[:40]} 第 {data['PAGE_NO']} 页）")
        rejected = [{"row": int(r["ROW"]), "reason": str(r["REASON"])[:200]} for r in data.get("REJECTED") or []]
        return Ack(accepted=int(data["ACCEPTED"]), duplicate=bool(data.get("DUPLICATE")), rejected=rejected)
    except FincloudError:
        raise
    except (ValueError, KeyError, TypeError):
        raise FincloudError("财政云返回的回执无法解析") from None


def valid_amount(text: object) -> bool:
    return isinstance(text, str) and bool(_YUAN.fullmatch(text))
