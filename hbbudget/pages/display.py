"""Service results → display rows (all text) for the budgeting and execution pages: the one place where fen,
dates and codes become text. No reflex, no database."""

from __future__ import annotations

from hbbudget import money
from hbbudget.clock import to_local_text

SEVERITY_LABELS = {"error": "错误", "warning": "警告"}


def amount(fen: object, unit: str) -> str:
    try:
        return money.fmt(int(fen or 0), unit)
    except (TypeError, ValueError):
        return ""


def page_label(offset: int, size: int, total: int) -> str:
    if not total:
        return "无记录"
    return f"第 {offset + 1}–{min(offset + size, total)} 条，共 {total} 条"


def flags(rules: list[dict]) -> dict[int, str]:
    """Line id → "error" | "warning" for the lines named by failed rules (errors win)."""
    out: dict[int, str] = {}
    for r in rules:
        if r.get("ok"):
            continue
        for line_id in r.get("line_ids") or []:
            if out.get(line_id) != "error":
                out[line_id] = "error" if r.get("severity") == "error" else "warning"
    return out


def rules(results: list[dict]) -> list[dict[str, str]]:
    """Failed errors first, then failed warnings, then passed rules. The badge names the severity only on a failure
    (a passed rule says 通过: a red 错误 beside a rule that passed reads as an error)."""
    order = sorted(results, key=lambda r: (bool(r.get("ok")), r.get("severity") != "error"))
    return [{
        "rule_key": str(i),
        "ok": "1" if r.get("ok") else "",
        "severity": str(r.get("severity") or "error"),
        "severity_label": "通过" if r.get("ok") else
        str(r.get("severity_label") or SEVERITY_LABELS.get(r.get("severity"), "错误")),
        "name": str(r.get("name") or ""),
        "message": str(r.get("message") or ("通过" if r.get("ok") else "")),
        "lines": ",".join(str(x) for x in (r.get("line_ids") or [])),
    } for i, r in enumerate(order)]


def rule_summary(results: list[dict]) -> str:
    errors = sum(1 for r in results if not r.get("ok") and r.get("severity") == "error")
    warnings = sum(1 for r in results if not r.get("ok") and r.get("severity") != "error")
    if not results:
        return "尚未校验"
    if not errors and not warnings:
        return f"全部 {len(results)} 条规则通过"
    return f"{errors} 个错误，{warnings} 个警告"


def line(row: dict, unit: str, flag: str = "") -> dict[str, str]:
    """A grid row (services.budgeting) as text, with what the read-only tables show beyond the editor grid."""
    months = row.get("months") or []
    return {
        **grid_line(row, unit),
        "version": str(row.get("version", "")),
        "project_id": str(row.get("project_id") or 0),
        "plan": "已平衡" if row.get("plan_ok", True) else "不平衡",
        "months": "、".join(amount(m, unit) for m in months) if months else "",
        "org_name": str(row.get("org_name", "")),
        "flag": flag,
    }


def grid_line(row: dict, unit: str, key: str = "") -> dict[str, str]:
    """A row of the editor grid: only what the grid shows (each save sends its chunk of rows to the browser).
    `key` (line id + the row version last loaded from the server) keys the row's uncontrolled inputs."""
    project = f"{row.get('project_name', '')}（{row.get('project_code', '')}）" if row.get("project_id") else "基本支出"
    if row.get("project_grade"):
        year, grade = row["project_grade"]
        project += f"〔{year}年绩效：{grade}〕"
    return {
        "id": str(row.get("id", "")),
        "key": key or f"{row.get('id', '')}-{row.get('version', '')}",
        "project": project,
        "econ_code": str(row.get("econ_code", "")),
        "econ_name": str(row.get("econ_name", "")),
        "func_code": str(row.get("func_code", "")),
        "func_name": str(row.get("func_name", "")),
        "source": str(row.get("source", "")),
        "amount": amount(row.get("amount", 0), unit),
        "amount_yuan": money.yuan_text(int(row.get("amount") or 0)),
        "note": str(row.get("note", "")),
        "plan_ok": "1" if row.get("plan_ok", True) else "",
        "updated": f"{row.get('updated_by', '')} {to_local_text(row.get('updated_at'))}".strip(),
    }


def subtotals(items: list[dict], unit: str) -> list[dict[str, str]]:
    return [{"code": str(s.get("code", "")), "name": str(s.get("name", "")), "total": amount(s.get("total", 0), unit)}
            for s in items]


def by_source(totals: dict, unit: str) -> str:
    parts = [f"{k} {amount(v, unit)}" for k, v in (totals.get("by_source") or {}).items() if v]
    return "；".join(parts)


def budget(row: dict, unit: str) -> dict[str, str]:
    """A list_budgets / get_budget / pending_budgets row as text."""
    return {
        "id": str(row.get("id", "")),
        "org_name": str(row.get("org_name", "")),
        "fiscal_year": str(row.get("fiscal_year", "")),
        "round": str(row.get("round", "")),
        "status": str(row.get("status", "")),
        "step_org_name": str(row.get("step_org_name", "")),
        "total": amount(row.get("total", 0), unit),
        "line_count": str(row.get("line_count", 0)),
        "version_no": str(row.get("version_no", 0)),
        "updated_at": str(row.get("updated_at", "")),
        "control": amount(row.get("control", 0), unit) if row.get("control") else "未下达",
        "last_comment": str(row.get("last_comment", "")),
    }


def editor_header(row: dict, unit: str) -> dict[str, str]:
    """get_budget's header as 预算编辑 shows it: the list row's text and a title."""
    return {**budget(row, unit),
            "title": f"{row.get('org_name', '')} {row.get('fiscal_year', '')} 年度预算（{row.get('round', '')}）"}


def line_label(row: dict) -> str:
    """A grid line in one line of text (the delete confirmation)."""
    return (f"{row.get('econ_code', '')} {row.get('econ_name', '')} / {row.get('func_code', '')} "
            f"{row.get('source', '')} {amount(row.get('amount', 0), 'yuan')}")


def transfer_label(row: dict) -> str:
    """A grid line as the 行间调剂 dialog lists it."""
    return (f"{row.get('econ_code', '')} {row.get('econ_name', '')} / {row.get('func_code', '')} / "
            f"{row.get('source', '')} / {row.get('project_code') or '基本支出'}：{amount(row.get('amount', 0), 'yuan')}")


def conflict_values(row: dict, unit: str) -> str:
    """The stored values of a line someone else saved first."""
    return (f"当前内容：{row.get('econ_code', '')} {row.get('econ_name', '')}；"
            f"{row.get('func_code', '')} {row.get('func_name', '')}；{row.get('source', '')}；"
            f"{amount(row.get('amount', 0), unit)}；备注：{row.get('note', '') or '无'}")


def plan_months(months: list[int]) -> list[dict[str, str]]:
    """The monthly plan dialog's inputs: name m01…m12, label, the amount in yuan."""
    return [{"name": f"m{i + 1:02d}", "label": f"{i + 1}月", "value": money.yuan_text(m)}
            for i, m in enumerate(months)]


def version(row: dict, unit: str) -> dict[str, str]:
    return {"version_no": str(row["version_no"]), "round": str(row.get("round", "")),
            "event": str(row.get("event", "")), "created_at": str(row.get("created_at", "")),
            "created_by": str(row.get("created_by", "")), "total": amount(row.get("total", 0), unit),
            "reason": str(row.get("reason", ""))}


def diff_rows(d: dict, unit: str) -> list[dict[str, str]]:
    """A budgets.diff result as table rows (added, removed, then changed; at most 300)."""
    rows = []
    for kind, key in (("新增", "added"), ("删除", "removed")):
        for line_ in d.get(key) or []:
            rows.append({"change": kind, **diff_line(line_, unit), "before": "", "fields": ""})
    for ch in d.get("changed") or []:
        after, before = ch.get("after") or {}, ch.get("before") or {}
        rows.append({"change": "修改", **diff_line(after, unit), "before": amount(before.get("amount", 0), unit),
                     "fields": "、".join(DIFF_FIELDS.get(f, str(f)) for f in ch.get("fields") or [])})
    return rows[:300]


def diff_summary(d: dict, names: tuple[str, str], unit: str) -> str:
    return (f"{names[0]} 合计 {amount(d.get('from_total', 0), unit)} → "
            f"{names[1]} 合计 {amount(d.get('to_total', 0), unit)}；"
            f"新增 {len(d.get('added') or [])} 行，删除 {len(d.get('removed') or [])} 行，"
            f"修改 {len(d.get('changed') or [])} 行")


def problems(items: list[dict]) -> list[dict[str, str]]:
    """An import's problems (row, column, reason), at most 200."""
    return [{"row": str(p.get("row", "")), "column": str(p.get("column", "")), "reason": str(p.get("reason", ""))}
            for p in items[:200]]


def project(row: dict, unit: str) -> dict[str, str]:
    return {
        "id": str(row.get("id", "")),
        "code": str(row.get("code", "")),
        "name": str(row.get("name", "")),
        "org_name": str(row.get("org_name", "")),
        "category_label": str(row.get("category_label", "")),
        "kind": str(row.get("kind", "")),
        "years": f"{row.get('start_year', '')}–{row.get('end_year', '')}",
        "total": amount(row.get("total", 0), unit),
        "status": str(row.get("status", "")),
        "step_org_name": str(row.get("step_org_name", "")),
        "owner": str(row.get("owner", "")),
        "func_code": str(row.get("func_code", "")),
        "grade": str(row.get("grade", "")),  # the last confirmed 绩效自评 grade (list rows only)
    }


DIFF_FIELDS = {"amount": "金额", "months": "分月计划", "note": "备注"}


def diff_line(line_: dict, unit: str) -> dict[str, str]:
    code = str(line_.get("project_code") or "")
    return {"project_code": project_text(code, str(line_.get("project_name") or "")) if code else "基本支出",
            "econ_code": f"{line_.get('econ_code', '')} {line_.get('econ_name', '')}".strip(),
            "func_code": f"{line_.get('func_code', '')} {line_.get('func_name', '')}".strip(),
            "source": str(line_.get("source", "")),
            "amount": amount(line_.get("amount", 0), unit), "note": str(line_.get("note", ""))}


# ---- execution: the 指标 ledger ----

LEDGER_AMOUNTS = ("approved", "adjusted", "current", "spent", "frozen", "available", "month_plan", "month_spent")


def project_text(code: str, name: str) -> str:
    """A line's project: 名称（编码）, or 基本支出 without one."""
    return f"{name}（{code}）" if code else "基本支出"


def ledger_row(r: dict, unit: str) -> dict[str, str]:
    """A ledger.LedgerRow as text; flag: over (spent beyond what is available), plan (beyond the plan) or ""."""
    flag = "over" if r["over_available"] else ("plan" if r["over_plan"] or r["over_month_plan"] else "")
    plan_text = "、".join(t for t, on in (("超累计用款计划", r["over_plan"]), ("超本月用款计划", r["over_month_plan"])) if on)
    return {"id": str(r["line_id"]), "project": project_text(r["project_code"], r["project_name"]),
            "econ": f"{r['econ_code']} {r['econ_name']}", "source": str(r["source"]), "flag": flag,
            "flag_text": {"over": "超出可用", "plan": plan_text, "": ""}[flag],
            **{k: amount(r[k], unit) for k in LEDGER_AMOUNTS}}


def ledger_entry(e: dict, unit: str) -> dict[str, str]:
    """A ledger.LineEntry as text."""
    return {"id": str(e["id"]), "spent_on": str(e["spent_on"]), "kind": str(e["kind"]), "amount": amount(e["amount"], unit),
            "counterparty": str(e["counterparty"]), "remittance": str(e["remittance"]), "note": str(e["note"]),
            "matched_by": str(e["matched_by"])}


def line_choice(c: dict) -> str:
    """A ledger.LineChoice as the 待匹配 page lists it."""
    return (f"{c['org_name']} · {project_text(c['project_code'], c['project_name'])} · {c['econ_code']} "
            f"{c['econ_name']} · 预算 {money.fmt(c['amount'])}，已支出 {money.fmt(c['spent'])}，可用 {money.fmt(c['available'])}")
