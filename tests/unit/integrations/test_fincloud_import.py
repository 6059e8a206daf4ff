"""批复 指标 from the finance cloud: fetch under faults, the reconciliation report, confirm (all or nothing, only
by a 财政审核 user over every unit named) and reject."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import BudgetLine, BudgetVersion, FincloudImport, FincloudRun, Project
from hbbudget.services.errors import Conflict, PermissionDenied, ValidationError
from hbbudget.services.integrations import fincloud_import as fi
from hbbudget.sim.fincloud import FincloudSim, create_app
from hbbudget.sim.server import ThreadedServer
from tests.factories import approved_budget, ctx_for, make_tree, make_user

YEAR = 2026
P1 = "13010026P000001"


def ind(ind_id: str, agency: str, project: str, econ: str, amount: str, fund: str = "11") -> dict:
    return {"IND_ID": ind_id, "MOF_DIV_CODE": "130100000", "FISCAL_YEAR": str(YEAR), "AGENCY_CODE": agency,
            "PRO_CODE": project, "EXP_FUNC_CODE": "2050205", "DEP_BGT_ECO_CODE": econ, "FUND_TYPE_CODE": fund,
            "IND_AMT": amount}


CLOUD = [ind("I1", "U", P1, "31002", "12000.00"), ind("I2", "U", "", "30201", "2000.00"),
         ind("I3", "U", P1, "31003", "500.00"), ind("I4", "O", "", "30201", "500.00"),
         ind("I5", "O", "", "30205", "1.00", fund="99")]


@pytest.fixture
def world(db):
    tree = make_tree()
    with session_scope() as session:
        project = Project(code=P1, name="实验室设备购置", org_id=tree["unit"], category="3", start_year=YEAR,
                          end_year=YEAR, status="执行中")
        session.add(project)
        session.flush()
        pid = project.id
    budget, lines = approved_budget(tree["unit"], [(pid, "31002", 1_000_000), (None, "30201", 200_000)], YEAR)
    approved_budget(tree["other"], [(None, "30201", 50_000), (None, "30202", 10_000)], YEAR)
    make_user("fin_city", "finance_reviewer", tree["city"])
    make_user("fin_unit", "finance_reviewer", tree["unit"])
    make_user("kuaiji", "accountant", tree["unit"])
    return {**tree, "budget": budget, "lines": lines}


@pytest.fixture
def cloud(monkeypatch):
    sim = FincloudSim()
    sim.set_indicators(CLOUD)
    with ThreadedServer(create_app(sim)) as url:
        monkeypatch.setenv("HBB_FINCLOUD_URL", url)
        monkeypatch.setenv("HBB_FINCLOUD_TIMEOUT_SECONDS", "2")
        yield sim, url


def _lines() -> dict[tuple, int]:
    with session_scope() as session:
        return {(ln.budget_id, ln.project_id, ln.econ_code): ln.amount for ln in session.exec(select(BudgetLine)).all()}


def test_fetch_and_the_reconciliation_report(world, cloud) -> None:
    out = fi.fetch(YEAR)
    assert out["result"] == "成功" and out["import_id"]
    rep = fi.report(ctx_for("fin_city"), out["import_id"])
    status = {(r["agency"], r["project"], r["econ"]): (r["status"], r["ours"], r["cloud"]) for r in rep["rows"]}
    assert status == {
        ("U", P1, "31002"): ("不一致", "¥10,000.00", "¥12,000.00"), ("U", "", "30201"): ("一致", "¥2,000.00", "¥2,000.00"),
        ("U", P1, "31003"): ("本系统缺少", "", "¥500.00"), ("O", "", "30201"): ("一致", "¥500.00", "¥500.00"),
        ("O", "", "30202"): ("财政云缺少", "¥100.00", "")}
    assert rep["whole"] and rep["hidden"] == 0
    assert rep["unreadable"] == [{"ind_id": "I5", "reason": "未知的资金性质 FUND_TYPE_CODE：99"}]
    assert fi.fetch(YEAR)["result"] == "无变化"
    with session_scope() as session:
        assert len(session.exec(select(FincloudImport)).all()) == 1
        assert [r.result for r in session.exec(select(FincloudRun).order_by(FincloudRun.id))] == ["成功", "无变化"]


def test_confirm_applies_everything_and_saves_a_version(world, cloud) -> None:
    iid = fi.fetch(YEAR)["import_id"]
    ctx = ctx_for("fin_city")
    rep = fi.report(ctx, iid)
    before = _lines()
    assert fi.confirm(ctx, iid, rep["digest"]) == {"id": iid, "changed": 2, "budgets": 1}
    after = _lines()
    with session_scope() as session:
        pid = session.exec(select(Project.id).where(Project.code == P1)).one()
        changed = session.exec(select(BudgetLine).where(BudgetLine.econ_code == "31002")).one()
        assert changed.amount == 1_200_000 and sum(getattr(changed, f"m{i:02d}") for i in range(1, 13)) == 1_200_000
        added = session.exec(select(BudgetLine).where(BudgetLine.econ_code == "31003")).one()
        assert (added.project_id, added.amount, added.note) == (pid, 50_000, "财政云指标")
        [version] = session.exec(select(BudgetVersion).where(BudgetVersion.budget_id == world["budget"])).all()
        assert version.event == "财政云指标" and version.total == 1_200_000 + 200_000 + 50_000
        assert session.get(FincloudImport, iid).status == "已应用"
    untouched = {k: v for k, v in before.items() if k[2] not in ("31002",)}
    assert {k: after[k] for k in untouched} == untouched  # 一致 and 财政云缺少 lines unchanged
    with pytest.raises(ValidationError, match="状态为“已应用”"):
        fi.confirm(ctx, iid, rep["digest"])


def test_a_reviewer_of_one_unit_sees_its_rows_and_cannot_confirm(world, cloud) -> None:
    iid = fi.fetch(YEAR)["import_id"]
    ctx = ctx_for("fin_unit")
    rep = fi.report(ctx, iid)
    assert {r["agency"] for r in rep["rows"]} == {"U"} and rep["hidden"] == 2 and not rep["whole"]
    before = _lines()
    with pytest.raises(PermissionDenied, match="须由上级财政审核人员确认"):
        fi.confirm(ctx, iid, rep["digest"])
    with pytest.raises(PermissionDenied):
        fi.report(ctx_for("kuaiji"), iid)
    assert _lines() == before and [p["whole"] for p in fi.pending(ctx)] == [False]


def test_nothing_is_applied_half(world, cloud) -> None:
    sim, _ = cloud
    sim.set_indicators([*CLOUD, ind("I6", "ZZZ", "", "30201", "10.00")])
    iid = fi.fetch(YEAR)["import_id"]
    ctx = ctx_for("fin_city")
    rep = fi.report(ctx, iid)
    assert rep["counts"]["无法应用"] == 1
    before = _lines()
    with pytest.raises(ValidationError, match="有 1 条指标无法应用.*本系统没有单位编码 ZZZ"):
        fi.confirm(ctx, iid, rep["digest"])
    assert _lines() == before


def test_a_report_that_changed_since_it_was_shown_is_not_confirmed(world, cloud) -> None:
    iid = fi.fetch(YEAR)["import_id"]
    ctx = ctx_for("fin_city")
    rep = fi.report(ctx, iid)
    with session_scope() as session:
        line = session.get(BudgetLine, world["lines"][1])
        line.amount = 123_400
        session.add(line)
    before = _lines()
    with pytest.raises(Conflict, match="请重新核对"):
        fi.confirm(ctx, iid, rep["digest"])
    assert _lines() == before


def test_reject_and_a_newer_fetch_voids_the_pending_one(world, cloud) -> None:
    sim, _ = cloud
    first = fi.fetch(YEAR)["import_id"]
    sim.set_indicators(CLOUD[:2])
    second = fi.fetch(YEAR)["import_id"]
    with session_scope() as session:
        assert session.get(FincloudImport, first).status == "已作废"
    with pytest.raises(ValidationError, match="拒绝原因"):
        fi.reject(ctx_for("fin_city"), second, "")
    assert fi.reject(ctx_for("fin_city"), second, "与批复文件不符")["status"] == "已拒绝"
    assert fi.pending(ctx_for("fin_city")) == []


@pytest.mark.parametrize("kind,message", [("http500", "HTTP 500"), ("malformed", "无法解析"), ("truncate", "无法解析"),
                                          ("timeout", "超时")])
def test_fetch_faults_make_no_import(world, cloud, kind, message) -> None:
    sim, url = cloud
    sim.faults.timeout_seconds = 4
    httpx.post(f"{url}/admin/faults", json={"kind": kind})
    out = fi.fetch(YEAR)
    assert out["result"] == "失败" and message in out["error"] and out["import_id"] is None
    assert fi.fetch(YEAR)["import_id"]  # the next poll succeeds


def test_a_page_served_with_a_record_twice_counts_it_once(world, cloud) -> None:
    sim, url = cloud
    httpx.post(f"{url}/admin/faults", json={"kind": "duplicate"})
    iid = fi.fetch(YEAR)["import_id"]
    rep = fi.report(ctx_for("fin_city"), iid)
    assert sum(rep["counts"].values()) == 5
    assert next(r for r in rep["rows"] if r["econ"] == "31002")["cloud"] == "¥12,000.00"


async def test_the_page_confirms_what_it_showed(world, cloud) -> None:
    import reflex as rx

    import hbbudget.hbbudget  # noqa: F401
    from hbbudget.pages.integrations.fincloud import FincloudState
    from hbbudget.services.security import auth
    from state.session import SessionState
    from tests.factories import PASSWORD

    iid = fi.fetch(YEAR)["import_id"]
    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login("fin_city", PASSWORD)[0]
    page = await root.get_state(FincloudState)
    await page.load()
    assert [i["id"] for i in page.imports] == [str(iid)] and page.imports[0]["scope"] == "可确认"
    assert "请先打开" in str(await page.confirm())
    await page.open_import(str(iid))
    assert page.can_decide and "不一致 1 条" in page.summary and "1 条无法识别" in page.summary
    assert len(page.rows) == 5
    assert "已应用：修改或新增 2 条预算明细，涉及 1 个预算" in str(await page.confirm())
    assert page.imports == [] and page.selected == ""
