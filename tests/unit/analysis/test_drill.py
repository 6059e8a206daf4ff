"""趋势与穿透 over the hand-computed fixture of test_report: the trend with last year's curve, the bars of each
drill level (org → project → line), the payments of a line (a reversed payment gone, a bank payment with its
counterparty), the heatmap, the composition by 功能分类, laggards and lines over plan, and the scope of every
step (a shared link opens only within the user's scope)."""

from datetime import date

import pytest
from sqlmodel import select

from hbbudget.services.analysis import drill
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import facts, matching
from tests.budget_world import add_user
from tests.factories import bank_tx
from tests.unit.analysis.test_report import AUG, YEAR, world  # noqa: F401  (the hand-computed fixture)


def _yuan(values: list) -> list:
    return [v // 100 if v is not None else None for v in values]


def test_org_level_trend_and_bars(world):  # noqa: F811
    data = drill.node(world["head"], f"org-{world['unit']}", YEAR, AUG)
    t = data["trend"]
    assert data["level"] == "org" and data["crumbs"] == [{"label": "示范大学", "path": f"org-{world['unit']}"}]
    assert t["budget"] == 1_400_000 * 100 and t["spent"] == 560_000 * 100
    assert _yuan(t["cum_spent"]) == [0, 20_000, 320_000, 320_000, 520_000, 550_000, 560_000, 560_000,
                                     None, None, None, None]
    assert t["cum_rate"][5] == 3929 and t["progress"][5] == 5000
    assert t["last_rate"][:3] == [0, 0, 4000] and t["last_rate"][7] == 5000  # 49 999 of last year's 100 000
    assert [(b["name"], b["rate"], b["key"]) for b in data["bars"]] == [
        ("基本支出", 1500, f"org-{world['unit']}.project-0"),
        ("信息学院", 3000, f"org-{world['dept']}"),
        ("实验室建设（P-LAB）", 4545, f"org-{world['unit']}.project-{world['lab']}")]


def test_project_then_line_then_payments(world):  # noqa: F811
    project = drill.node(world["head"], f"org-{world['unit']}.project-{world['lab']}", YEAR, AUG)
    assert [c["label"] for c in project["crumbs"]] == ["示范大学", "实验室建设（P-LAB）"]
    assert [(b["rate"], b["key"]) for b in project["bars"]] == [
        (4545, f"org-{world['unit']}.project-{world['lab']}.line-{world['l1']}")]
    line = drill.node(world["head"], project["bars"][0]["key"], YEAR, AUG)
    assert line["level"] == "line" and len(line["crumbs"]) == 3
    # money charged to the line's version before the 调剂 is listed with the line
    assert [(p["date"], p["amount"] // 100, p["kind"]) for p in line["transactions"]] == [
        ("2027-05-20", 200_000, "手工"), ("2027-03-10", 300_000, "手工")]
    kuaiji = add_user("kj3", "accountant", world["unit"])
    paid = bank_tx(world["account"], world["unit"], "T-2", -100_000, counterparty="文具公司", remittance="办公用品",
                   booking_date=date(YEAR, 6, 2))
    matching.match(kuaiji, paid, [(world["l2"], "1000")])
    facts.forget()
    basic = drill.node(world["head"], f"org-{world['unit']}.project-0.line-{world['l2']}", YEAR, AUG)
    assert [(p["date"], p["amount"] // 100, p["kind"], p["counterparty"], p["remittance"])
            for p in basic["transactions"]] == [
        ("2027-07-03", 10_000, "手工", "", "办公"), ("2027-06-02", 1_000, "银行", "文具公司", "办公用品"),
        ("2027-02-02", 20_000, "手工", "", "办公")]  # the reversed April payment is not there


def test_every_step_is_scoped(world):  # noqa: F811
    with pytest.raises(PermissionDenied):
        drill.node(world["outsider"], f"org-{world['unit']}", YEAR, AUG)
    with pytest.raises(PermissionDenied):  # the project is not in 信息学院's budget
        drill.node(world["head"], f"org-{world['dept']}.project-{world['lab']}", YEAR, AUG)
    with pytest.raises(PermissionDenied):  # a line of another project
        drill.node(world["head"], f"org-{world['unit']}.project-{world['lab']}.line-{world['l2']}", YEAR, AUG)
    with pytest.raises(PermissionDenied):
        drill.org_overview(world["head"], world["other"], YEAR, AUG)
    for bad in ("", "org-x", "project-1", f"org-{world['unit']}.line-1", "org-1.project-1.line-1.x"):
        with pytest.raises(ValidationError):
            drill.node(world["head"], bad, YEAR, AUG)


def test_heatmap_composition_laggards_and_over_plan(world):  # noqa: F811
    data = drill.org_overview(world["head"], world["unit"], YEAR, AUG)
    assert data["progress"] == 6237  # (7 + 15/31) / 12
    assert [(h["name"], h["rates"][4:9]) for h in data["heat"]] == [
        ("信息学院", [0, 3000, 3000, 3000, None]), ("空白学院", [None] * 5)]
    assert [(c["code"], c["parent"], c["budget"] // 100, c["rate"]) for c in data["composition"]] == [
        ("205", "", 1_400_000, 4000), ("20502", "205", 1_400_000, 4000), ("2050205", "20502", 1_400_000, 4000)]
    assert [(b["name"], b["rate"]) for b in data["laggards"]] == [("实验室建设（P-LAB）", 4545)]
    assert data["over_plan"] == []
    matching.record_manual(add_user("kj4", "accountant", world["unit"]), world["l3"], "80000", date(YEAR, 6, 10), "超支")
    facts.forget()
    over = drill.org_overview(world["head"], world["unit"], YEAR, AUG)["over_plan"]
    assert [(b["key"], b["spent"] // 100, b["rate"]) for b in over] == [
        (f"org-{world['unit']}.project-0.line-{world['l3']}", 80_000, 20000)]


def test_year_end_forecast_per_project_and_on_the_trend(world):  # noqa: F811
    """At 15 August (7 months complete): P-LAB has no history, its even 用款计划 is the profile: 500 000 ÷ 7/12;
    U's 基本支出 spent 40 000 of 2026's 49 999 by March, the rest in August: 30 000 ÷ 0.80002; D's: 30 000 ÷ 7/12."""
    rows = drill.at_risk(world["head"], world["unit"], YEAR, AUG)
    assert [(r["org_name"], r["name"], r["year_end"] // 100, r["rate"], r["flag"]) for r in rows] == [
        ("示范大学", "基本支出", 37_499, 1875, True), ("信息学院", "基本支出", 51_428, 5143, True),
        ("示范大学", "实验室建设（P-LAB）", 857_142, 7792, True)]
    assert {r["model"] for r in rows} == {"季节画像"}  # Holt-Winters needs two years of history
    node = drill.node(world["head"], f"org-{world['unit']}.project-{world['lab']}", YEAR, AUG)
    f = node["forecast"]
    assert f["months"] == [8, 9, 10, 11, 12] and f["rate"] == 7792 and f["mid"][-1] == 7792
    assert all(lo <= m <= hi for lo, m, hi in zip(f["low"], f["mid"], f["high"]))
    assert drill.node(world["head"], f"org-{world['unit']}", YEAR, date(YEAR + 1, 2, 1))["forecast"] is None  # year over
    with pytest.raises(PermissionDenied):
        drill.at_risk(world["outsider"], world["unit"], YEAR, AUG)


def test_breadcrumbs_run_from_the_top_of_the_scope(world):  # noqa: F811
    crumbs = drill.node(world["leader"], f"org-{world['dept']}", YEAR, AUG)["crumbs"]
    assert [c["label"] for c in crumbs] == ["省财政厅", "市财政局", "示范大学", "信息学院"]
    assert [c["label"] for c in drill.node(world["head"], f"org-{world['dept']}", YEAR, AUG)["crumbs"]] == [
        "示范大学", "信息学院"]  # nothing above the user's scope


def test_a_tile_opens_the_projects_of_its_class(world):  # noqa: F811
    """Every fixture line is 2050205: the 类 tile 205 of 示范大学 holds its 基本支出, P-LAB and 信息学院's
    基本支出 (by the project's own org); a class the subtree does not use is refused."""
    overview = drill.org_overview(world["head"], world["unit"], YEAR, AUG)
    assert [r["key"] for r in overview["composition"]] == [
        f"org-{world['unit']}.func-{c}" for c in ("205", "20502", "2050205")]
    data = drill.node(world["head"], f"org-{world['unit']}.func-205", YEAR, AUG)
    assert data["level"] == "func" and data["crumbs"][-1]["path"] == f"org-{world['unit']}.func-205"
    assert [(b["name"], b["rate"], b["key"]) for b in data["bars"]] == [
        ("基本支出（示范大学）", 1500, f"org-{world['unit']}.project-0"),
        ("基本支出（信息学院）", 3000, f"org-{world['dept']}.project-0"),
        ("实验室建设（P-LAB）", 4545, f"org-{world['unit']}.project-{world['lab']}")]
    assert data["trend"]["spent"] == 560_000 * 100
    with pytest.raises(PermissionDenied):
        drill.node(world["head"], f"org-{world['unit']}.func-206", YEAR, AUG)
    with pytest.raises(PermissionDenied):
        drill.node(world["outsider"], f"org-{world['unit']}.func-205", YEAR, AUG)


def test_a_trend_point_opens_the_month(world):  # noqa: F811
    """March: P-LAB had spent 300 000 of 1 100 000, U's 基本支出 20 000 of 200 000, 信息学院 nothing; the line of
    P-LAB in May shows May's payment only."""
    data = drill.node(world["head"], f"org-{world['unit']}", YEAR, AUG, month="3")
    assert data["month"] == 3
    assert sorted((b["name"], b["rate"]) for b in data["bars"]) == [
        ("信息学院", 0), ("基本支出", 1000), ("实验室建设（P-LAB）", 2727)]
    line = drill.node(world["head"], f"org-{world['unit']}.project-{world['lab']}.line-{world['l1']}", YEAR, AUG,
                      month=5)
    assert [(p["date"], p["amount"] // 100) for p in line["transactions"]] == [("2027-05-20", 200_000)]
    for bad in ("0", "13", "x"):
        with pytest.raises(ValidationError):
            drill.node(world["head"], f"org-{world['unit']}", YEAR, AUG, month=bad)


def test_a_payment_opens_its_invoices(world):  # noqa: F811
    """The manual payment of 20 May carries an e-invoice: the line lists it (1 张), its step shows the invoice;
    a payment of another line, or the step for a user without the scope, is refused."""
    from hbbudget.db import session_scope
    from hbbudget.models import Expenditure, Invoice

    line_path = f"org-{world['unit']}.project-{world['lab']}.line-{world['l1']}"
    with session_scope() as session:
        may = session.exec(select(Expenditure).where(Expenditure.spent_on == date(YEAR, 5, 20))).one()
        other = session.exec(select(Expenditure).where(Expenditure.spent_on == date(YEAR, 7, 3))).one()  # l2's
        session.add(Invoice(key="011002200111-12345678", org_id=world["unit"], expenditure_id=may.id, kind="增值税电子普通发票",
                            code="011002200111", number="12345678", issued_on=date(YEAR, 5, 18),
                            seller_name="仪器公司", amount=17_699_115, tax=2_300_885, total=20_000_000))
        may_id, other_id = may.id, other.id
    rows = drill.node(world["head"], line_path, YEAR, AUG)["transactions"]
    assert [(p["date"], p["invoices"], p["key"]) for p in rows] == [
        ("2027-05-20", 1, f"{line_path}.pay-{may_id}"), ("2027-03-10", 0, f"{line_path}.pay-{rows[1]['id']}")]
    step = drill.node(world["head"], f"{line_path}.pay-{may_id}", YEAR, AUG)
    assert step["level"] == "payment" and len(step["crumbs"]) == 4
    assert [(i["number"], i["seller"], i["total"] // 100, i["status"]) for i in step["invoices"]] == [
        ("12345678", "仪器公司", 200_000, "未查验")]
    assert drill.node(world["head"], f"{line_path}.pay-{rows[1]['id']}", YEAR, AUG)["invoices"] == []
    with pytest.raises(PermissionDenied):  # a payment of another line
        drill.node(world["head"], f"{line_path}.pay-{other_id}", YEAR, AUG)
    with pytest.raises(PermissionDenied):
        drill.node(world["outsider"], f"{line_path}.pay-{may_id}", YEAR, AUG)
