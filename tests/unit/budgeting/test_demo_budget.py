"""Budgeting demo data: idempotent, and consistent with the rules it ships."""

from sqlmodel import func, select

from hbbudget.clock import current_fiscal_year
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, Budget, BudgetLine, CategoryTemplate, Project, Rule
from hbbudget.services.budgeting import budgets, rules, templates
from hbbudget.services.core import setup
from hbbudget.services.demo import analysis, budget, seed
from hbbudget.services.security import auth


def _counts() -> dict:
    with session_scope() as session:
        return {m.__name__: session.exec(select(func.count()).select_from(m)).one()
                for m in (Project, Budget, BudgetLine, Rule, CategoryTemplate, AuditEntry)}


def test_demo_budget_data_is_idempotent_and_usable(db):
    setup.init_reference_data()
    seed.seed_demo()
    first = _counts()
    # besides the 数据分析 demo (services.demo.analysis: three years for every unit, the college's this year here)
    extra_projects = sum(len(projects) for _, _, projects in analysis.UNITS.values())
    extra_budgets = 3 * len(analysis.UNITS) - 1
    assert first["Project"] == 6 + extra_projects and first["Budget"] == 2 + extra_budgets
    assert first["Rule"] == 5 and first["CategoryTemplate"] == 3
    # Rule: + 绩效结果应用 (services.demo.performance)
    assert budget.seed() == {"projects": 0, "budgets": 0, "rules": 0, "templates": 0}
    assert _counts() == first
    year = current_fiscal_year()
    _, ctx = auth.login("jingban", seed.DEMO_PASSWORD)
    listed = {(b["fiscal_year"], b["status"]): b for b in budgets.list_budgets(ctx)[0]}
    assert set(listed) == {(year - 2, "已批复"), (year - 1, "已批复"), (year, "已批复"), (year + 1, "草稿")}
    draft = listed[(year + 1, "草稿")]
    results = {r["kind"]: r for r in rules.check_budget(ctx, draft["id"])}
    assert results["share_cap"]["severity"] == "warning" and results["sangong_cap"]["severity"] == "error"
    assert all(r["ok"] for r in results.values()), results
    preview = templates.carry_forward_preview(ctx, ctx.org_id, year + 1)
    assert {s["project_name"] for s in preview["skipped"]} == {"智慧教室改造"}
    assert [t["name"] for t in templates.list_templates(ctx)] == ["高校科研项目", "医院设备购置", "乡镇日常运转"]
