"""The yearly 科目 update (新增/调整预算科目, issue 17): preview an official table for a year (added, renamed and
retired codes, with the projects, budget lines and template items that use a retired code), then apply it. The
reading, checking and writing are services/core/subjects.py (the same as `hbbudget subjects import`)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import Budget, BudgetLine, CategoryTemplate, CategoryTemplateItem, Org, Project
from hbbudget.services.core import subjects
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext

PERMISSION = "subject.manage"
MAX_USES = 200


def usage(kind: str, year: int, codes: list[str]) -> list[dict]:
    """Who uses the retired codes in `year` or later: projects (功能分类), budget lines, template items (经济分类)."""
    if not codes:
        return []
    out: list[dict] = []
    with session_scope() as session:
        if kind == "function":
            for p, org in session.exec(select(Project, Org.name).join(Org, Org.id == Project.org_id).where(
                    Project.func_code.in_(codes), Project.end_year >= year)).all():
                out.append({"code": p.func_code, "what": "项目", "name": f"{p.code} {p.name}", "org": org})
        line_col = BudgetLine.func_code if kind == "function" else BudgetLine.econ_code
        for line, b, org in session.exec(select(BudgetLine, Budget, Org.name).join(Budget, Budget.id == BudgetLine.budget_id)
                                         .join(Org, Org.id == Budget.org_id)
                                         .where(line_col.in_(codes), Budget.fiscal_year >= year)).all():
            code = line.func_code if kind == "function" else line.econ_code
            out.append({"code": code, "what": "预算明细", "name": f"{b.fiscal_year} 年 {b.round} 预算 第 {line.id} 行",
                        "org": org})
        if kind == "dept":
            for item, t, org in session.exec(select(CategoryTemplateItem, CategoryTemplate, Org.name)
                                             .join(CategoryTemplate, CategoryTemplate.id == CategoryTemplateItem.template_id)
                                             .join(Org, Org.id == CategoryTemplate.org_id)
                                             .where(CategoryTemplateItem.econ_code.in_(codes), CategoryTemplate.active)).all():
                out.append({"code": item.econ_code, "what": "编制模板", "name": t.name, "org": org})
    return sorted(out, key=lambda u: (u["code"], u["what"], u["name"]))[:MAX_USES]


def preview(ctx: UserContext, path: Path, year: int) -> dict:
    scope.require_global(ctx, PERMISSION)
    report = subjects.import_file(path, year, actor=ctx, dry_run=True)
    return {"report": report, "uses": usage(report.kind, year, report.retired)}


def apply(ctx: UserContext, path: Path, year: int) -> subjects.ImportReport:
    scope.require_global(ctx, PERMISSION)
    return subjects.import_file(path, year, actor=ctx)
