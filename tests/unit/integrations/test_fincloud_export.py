"""财政云 export: the 一体化 records of approved budgets, and the exchange with the simulator under every fault."""

from __future__ import annotations

import functools
import json
from datetime import date

import httpx
import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.integrations.fincloud import records as fc_records
from hbbudget.models import AuditEntry, Budget, BudgetVersion, EconomicMapping, FincloudRun, Org, Project
from hbbudget.services.integrations import fincloud
from hbbudget.sim.fincloud import FincloudSim, create_app
from hbbudget.sim.server import ThreadedServer
from tests.factories import approved_budget, ctx_for, make_tree, make_user

YEAR = 2026


def _version(budget_id: int, no: int, round_: str, event: str, lines: list[tuple[str, str, int]]) -> None:
    snap = [{"project_code": p, "econ_code": e, "func_code": "2050205", "source": "财政拨款", "amount": a,
             "months": [], "note": ""} for p, e, a in lines]
    with session_scope() as session:
        session.add(BudgetVersion(budget_id=budget_id, version_no=no, round=round_, event=event,
                                  total=sum(a for _, _, a in lines), lines=json.dumps(snap, ensure_ascii=False)))


@pytest.fixture
def world(db):
    tree = make_tree()
    with session_scope() as session:
        for key, region, kind in (("unit", "130100", "高校"), ("city", "130100", "行政")):
            org = session.get(Org, tree[key])
            org.region_code, org.unit_type = region, kind
            session.add(org)
        project = Project(code="13010026P000001", name="实验室设备购置", org_id=tree["unit"], category="3",
                          start_year=YEAR, end_year=YEAR, status="执行中")
        session.add(project)
        session.add(EconomicMapping(fiscal_year=YEAR, dept_code="30201", gov_code="50201"))
        session.flush()
        pid = project.id
    main, _ = approved_budget(tree["unit"], [(pid, "31002", 1_000_000), (None, "30201", 200_000)], YEAR)
    _version(main, 1, "二上", "上报", [("13010026P000001", "31002", 1_200_000), ("", "30201", 200_000)])
    _version(main, 2, "二下", "批复", [("13010026P000001", "31002", 1_000_000), ("", "30201", 200_000)])
    adjusted, _ = approved_budget(tree["unit"], [(pid, "31002", 900_000), (None, "30201", 300_000)], YEAR, seq=1,
                                  round="调剂")
    with session_scope() as session:
        b = session.get(Budget, main)
        b.superseded_by_id = adjusted
        session.add(b)
    approved_budget(tree["city"], [(None, "30201", 50_000)], YEAR)
    make_user("sysroot", "sys_admin", tree["prov"])
    make_user("sysunit", "sys_admin", tree["unit"])
    return tree


def test_records_use_the_one_platform_vocabulary(world) -> None:
    with session_scope() as session:
        records = fincloud.build_records(session, YEAR)
    assert all(tuple(r) == fc_records.FIELDS for r in records)
    by = {(r["AGENCY_CODE"], r["PRO_CODE"], r["DEP_BGT_ECO_CODE"]): r for r in records}
    assert by[("U", "13010026P000001", "31002")] == {
        "MOF_DIV_CODE": "130100000", "FISCAL_YEAR": "2026", "AGENCY_CODE": "U", "AGENCY_NAME": "示范大学",
        "PRO_CODE": "13010026P000001", "PRO_NAME": "实验室设备购置", "PRO_KIND_CODE": "3", "EXP_FUNC_CODE": "2050205",
        "DEP_BGT_ECO_CODE": "31002", "GOV_BGT_ECO_CODE": "", "FUND_TYPE_CODE": "11",
        "APPLY_UP": "12000.00", "REPLY_AMT": "10000.00", "ADJ_AMT": "-1000.00", "CUR_AMT": "9000.00"}
    basic = by[("U", "", "30201")]
    assert (basic["PRO_NAME"], basic["GOV_BGT_ECO_CODE"], basic["ADJ_AMT"], basic["CUR_AMT"]) == (
        "基本支出", "50502", "1000.00", "3000.00")  # 高校 is a 事业单位: 302 → 50502
    assert by[("C", "", "30201")]["GOV_BGT_ECO_CODE"] == "50201"  # 行政: the mapping table
    assert len(records) == 3
    assert fincloud.batch_id(YEAR, records) == fincloud.batch_id(YEAR, [dict(r) for r in records])


@pytest.fixture
def cloud(monkeypatch):
    sim = FincloudSim()
    sim.faults.timeout_seconds = 3
    with ThreadedServer(create_app(sim)) as url:
        monkeypatch.setenv("HBB_FINCLOUD_URL", url)
        monkeypatch.setenv("HBB_FINCLOUD_TIMEOUT_SECONDS", "1")
        monkeypatch.setattr(fincloud, "pages", functools.partial(fc_records.pages, page_size=1))
        yield sim, url


def _stored(url: str) -> int:
    return httpx.get(f"{url}/exchange/budgets").json()["records"]


def test_round_trip_is_idempotent(world, cloud) -> None:
    sim, url = cloud
    run = fincloud.export(YEAR, trigger="manual")
    assert (run["result"], run["records"], run["accepted"], run["rejected"]) == ("成功", 3, 3, 0)
    assert _stored(url) == 3
    again = fincloud.export(YEAR)
    assert again["result"] == "无变化" and again["batch_id"] == run["batch_id"] and _stored(url) == 3
    with session_scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "fincloud.export")).one()
        assert entry.success


@pytest.mark.parametrize("kind,message", [("http500", "HTTP 500"), ("timeout", "超时"), ("malformed", "无法解析"),
                                          ("truncate", "无法解析")])
def test_a_fault_fails_the_run_and_the_retry_applies_nothing_twice(world, cloud, kind, message) -> None:
    sim, url = cloud
    httpx.post(f"{url}/admin/faults", json={"kind": kind, "after": 1})  # page 1 goes through, page 2 fails
    failed = fincloud.export(YEAR)
    assert failed["result"] == "失败" and message in failed["error"]
    assert _stored(url) in (1, 2)  # a timeout or a bad answer may come after the cloud applied the page
    retry = fincloud.export(YEAR)
    assert (retry["result"], retry["accepted"], retry["batch_id"]) == ("成功", 3, failed["batch_id"])
    assert retry["duplicate_pages"] >= 1 and _stored(url) == 3


def test_a_batch_applied_twice_by_the_cloud_counts_once(world, cloud) -> None:
    sim, url = cloud
    httpx.post(f"{url}/admin/faults", json={"kind": "duplicate", "count": 3})
    run = fincloud.export(YEAR)
    assert (run["result"], run["accepted"], run["duplicate_pages"]) == ("成功", 3, 3) and _stored(url) == 3


def test_codes_the_cloud_does_not_know_are_rejected_with_reasons(world, cloud) -> None:
    sim, url = cloud
    with session_scope() as session:
        city = session.get(Org, world["city"])
        city.region_code = None
        session.add(city)
    approved_budget(world["dept"], [(None, "40101", 10_000)], YEAR)
    run = fincloud.export(YEAR)
    assert (run["result"], run["records"], run["accepted"], run["rejected"]) == ("成功", 4, 2, 2)
    reasons = {(r["agency"], r["econ"]): r["reason"] for r in run["rejections"]}
    assert "缺少字段：MOF_DIV_CODE" in reasons[("C", "30201")]
    assert "未知的部门预算经济分类 DEP_BGT_ECO_CODE：40101" in reasons[("D", "40101")]
    assert _stored(url) == 2


def test_runs_are_shown_only_to_a_root_system_admin(world, cloud) -> None:
    fincloud.export(YEAR)
    assert [r["result"] for r in fincloud.runs(ctx_for("sysroot"))] == ["成功"]
    assert fincloud.runs(ctx_for("sysunit")) == []
    with session_scope() as session:
        assert len(session.exec(select(FincloudRun)).all()) == 1


async def test_interfaces_page_shows_runs_and_exports_now(world, cloud, monkeypatch) -> None:
    import reflex as rx

    import hbbudget.hbbudget  # noqa: F401
    from hbbudget.pages.execution.interfaces import InterfacesState
    from hbbudget.services.security import auth
    from state.session import SessionState
    from tests.factories import PASSWORD

    monkeypatch.setattr("hbbudget.clock.today", lambda: date(YEAR, 6, 1))
    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login("sysroot", PASSWORD)[0]
    page = await root.get_state(InterfacesState)
    await page.load()
    assert page.fincloud_runs == []
    result = await page.export_fincloud()
    assert "财政云导出成功：发送 3 条，接收 3 条，拒收 0 条" in str(result)
    assert [r["result"] for r in page.fincloud_runs] == ["成功"]
