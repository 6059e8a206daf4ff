"""OA approvals against the OA simulator over real HTTP: both adapters, faults, polling, the signed callback
(good, bad, stale, replayed, unknown instance), idempotent outcomes, revoked after approval, and 三重一大."""

import time

import httpx
import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import ApprovalAct, AuditEntry, OaConfig, OaInstance, Org
from hbbudget.services.approvals import major, oa, templates
from hbbudget.services.budgeting import projects
from hbbudget.services.errors import ValidationError
from hbbudget.sim.oa import OaSim, create_app
from hbbudget.sim.server import ThreadedServer
from hbbudget.web import OA_CALLBACK, SecurityMiddleware
from tests.budget_world import YEAR, add_user, world

SECRET = "s3cret-for-the-college-oa"


async def _nothing(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def app_url(db):
    """Our app's ASGI layer (the callback route lives in the security middleware) on a real port."""
    with ThreadedServer(SecurityMiddleware(_nothing)) as url:
        yield url


def _setup(style: str, app_url: str, sim_url: str):
    w = world()
    sysadmin = add_user("sys", "sys_admin", w.org["prov"])
    templates.save_template(w.fin, w.org["unit"], "项目申报", [
        {"name": "院长审批", "actor": "unit"}, {"name": "逐级审核", "actor": "chain"}])
    oa.configure(sysadmin, w.org["dept"], style, sim_url, SECRET)
    return w


def _declare(w, total: str = "1000", name: str = "实验室建设") -> int:
    p = projects.create_project(w.op, w.org["dept"], {
        "name": name, "category": "3", "kind": "新增", "start_year": YEAR, "end_year": YEAR, "total": total,
        "func_code": "2050205"})
    projects.set_targets(w.op, p["id"], [{"indicator": "设备数量", "unit": "台", "direction": "≥",
                                          "target_value": "10", "weight": 90}])
    assert projects.transition(w.op, p["id"], "declare")["step_org_name"] == "信息学院"
    return p["id"]


def _instance(project_id: int) -> str:
    with session_scope() as session:
        return session.exec(select(OaInstance.external_id).order_by(OaInstance.id.desc())).first()


def _events(kind: str) -> list[AuditEntry]:
    with session_scope() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.event_type == kind)).all())


def _where(w, pid: int) -> tuple[str, str]:
    p = projects.get_project(w.op, pid)
    return p["status"], p["step_org_name"]


def _decide(sim_url: str, iid: str, outcome: str, **extra) -> dict:
    r = httpx.post(f"{sim_url}/admin/decide", json={"id": iid, "outcome": outcome, **extra}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("style", ["dingtalk", "wecom"])
def test_agree_by_callback_once_despite_duplicates_and_late_running(app_url, style):
    sim = OaSim("D", SECRET, app_url + OA_CALLBACK)
    with ThreadedServer(create_app(sim)) as sim_url:
        w = _setup(style, app_url, sim_url)
        pid = _declare(w)
        assert oa.poll_org(w.org["dept"]) == {"created": 1, "applied": 0, "failed": 0}
        iid = _instance(pid)
        assert sim.state(iid)["outcome"] == "running"
        result = _decide(sim_url, iid, "agree", duplicate=True, out_of_order=True)
        assert result["callbacks"] == [200, 200, 200]
        assert _where(w, pid) == ("审核中", "示范大学")
        assert oa.poll_org(w.org["dept"])["applied"] == 0  # polling sees agree again: nothing more
        with session_scope() as session:
            acts = session.exec(select(ApprovalAct).where(ApprovalAct.action == "通过")).all()
            assert [a.user_name for a in acts] == ["OA系统"]
        assert len(_events("oa.outcome")) == 1


def test_refuse_found_by_polling_returns_the_matter(app_url):
    sim = OaSim("D", SECRET, "")  # no callbacks: polling alone
    with ThreadedServer(create_app(sim)) as sim_url:
        w = _setup("wecom", app_url, sim_url)
        pid = _declare(w)
        oa.poll_org(w.org["dept"])
        _decide(sim_url, _instance(pid), "refuse")
        assert oa.poll_org(w.org["dept"])["applied"] == 1
        p = projects.get_project(w.op, pid)
        assert p["status"] == "退回" and "OA驳回" in p["last_comment"]


def test_revoked_after_approval_goes_back_to_returned(app_url):
    sim = OaSim("D", SECRET, app_url + OA_CALLBACK)
    with ThreadedServer(create_app(sim)) as sim_url:
        w = _setup("wecom", app_url, sim_url)
        pid = _declare(w)
        oa.poll_org(w.org["dept"])
        iid = _instance(pid)
        _decide(sim_url, iid, "agree")
        assert _where(w, pid) == ("审核中", "示范大学")
        assert _decide(sim_url, iid, "revoked")["callbacks"] == [200]
        p = projects.get_project(w.op, pid)
        assert p["status"] == "退回" and "通过后撤销" in p["last_comment"]
        assert sim.send_callback(iid, "revoked") == 200  # the same outcome again: nothing more
        assert projects.get_project(w.op, pid)["status"] == "退回"
        assert len(_events("oa.outcome")) == 2


def test_faults_on_the_oa_api_are_counted_and_retried(app_url):
    sim = OaSim("D", SECRET, "")
    sim.faults.timeout_seconds = 3
    with ThreadedServer(create_app(sim)) as sim_url:
        w = _setup("dingtalk", app_url, sim_url)
        pid = _declare(w)
        client = httpx.Client(timeout=httpx.Timeout(1.0))
        for kind in ("http500", "timeout", "malformed"):
            httpx.post(f"{sim_url}/admin/faults", json={"kind": kind})
            assert oa.poll_org(w.org["dept"], client) == {"created": 0, "applied": 0, "failed": 1}
        with session_scope() as session:
            cfg = session.exec(select(OaConfig)).one()
            assert cfg.failures == 3 and "不是 JSON" in cfg.last_error
        assert oa.poll_org(w.org["dept"], client)["created"] == 1  # the gateway is back
        iid = _instance(pid)
        _decide(sim_url, iid, "agree")
        httpx.post(f"{sim_url}/admin/faults", json={"kind": "http500"})
        assert oa.poll_org(w.org["dept"], client)["failed"] == 1
        assert _where(w, pid) == ("已申报", "信息学院")
        assert oa.poll_org(w.org["dept"], client)["applied"] == 1
        assert _where(w, pid) == ("审核中", "示范大学")
        rows = oa.status_rows(add_user("sys2", "sys_admin", w.org["prov"]))
        assert [(r["org_name"], r["failures"], r["waiting"]) for r in rows] == [("信息学院", 0, 0)]
        client.close()


def test_callback_signatures(app_url):
    sim = OaSim("D", SECRET, app_url + OA_CALLBACK)
    with ThreadedServer(create_app(sim)) as sim_url:
        w = _setup("dingtalk", app_url, sim_url)
        pid = _declare(w)
        oa.poll_org(w.org["dept"])
        iid = _instance(pid)
        sim.decide(iid, "agree")  # decided in the OA, no callback yet
        assert sim.send_callback(iid, "agree", secret="wrong-secret-of-someone") == 401
        assert sim.send_callback(iid, "agree", timestamp=int(time.time()) - 301) == 401
        assert _where(w, pid) == ("已申报", "信息学院")
        rejected = _events("oa.callback_rejected")
        assert [e.detail for e in rejected] == ["OA 回调签名错误", "OA 回调时间戳超出 5 分钟"]
        assert sim.send_callback(iid, "agree", nonce="n-1") == 200
        assert _where(w, pid) == ("审核中", "示范大学")
        assert sim.send_callback(iid, "agree", nonce="n-1") == 409  # replayed
        assert "重放" in _events("oa.callback_rejected")[-1].detail
        other = OaSim("O", SECRET, app_url + OA_CALLBACK)  # an org without OA
        other.instances[iid] = {"style": "dingtalk", "outcome": "agree"}
        assert other.send_callback(iid, "agree") == 401
        sim.instances["PROC-999999"] = {"style": "dingtalk", "outcome": "agree"}
        assert sim.send_callback("PROC-999999", "agree") == 200
        assert "PROC-999999" in _events("oa.unknown")[0].detail
        r = httpx.get(app_url + OA_CALLBACK)
        assert r.status_code == 405


def test_an_oa_agreement_waits_for_the_collective_decision(app_url, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_VAR_DIR", str(tmp_path))
    sim = OaSim("D", SECRET, app_url + OA_CALLBACK)
    with ThreadedServer(create_app(sim)) as sim_url:
        w = _setup("dingtalk", app_url, sim_url)
        with session_scope() as session:
            unit = session.get(Org, w.org["unit"])
            unit.major_threshold_fen = 50_000_000
            session.add(unit)
        pid = _declare(w, "600000", "大型设备")
        oa.poll_org(w.org["dept"])
        iid = _instance(pid)
        _decide(sim_url, iid, "agree")
        assert _where(w, pid) == ("已申报", "信息学院")  # blocked: no meeting recorded
        with session_scope() as session:
            inst = session.exec(select(OaInstance)).one()
            assert inst.applied == "" and "集体决策" in inst.note
            run_id = inst.run_id
        with pytest.raises(ValidationError):
            projects.transition(add_user("leader", "unit_leader", w.org["dept"], subtree=False), pid, "approve")
        major.record_decision(w.op, run_id, {"meeting_kind": "院务会", "meeting_date": "2026-11-30",
                                             "minutes_no": "院纪12号", "decision": "同意", "attendees": "9"},
                              "纪要.pdf", b"%PDF")
        assert oa.poll_org(w.org["dept"])["applied"] == 1
        # the 三重一大 stop passed; the template's own 院长审批 stop at the college goes to the OA next
        assert _where(w, pid) == ("审核中", "信息学院")
        assert oa.poll_org(w.org["dept"])["created"] == 1


def test_the_sim_command_needs_an_org_and_a_secret(db, capsys):
    from hbbudget.cli import build_parser

    args = build_parser().parse_args(["sim", "--oa", "--oa-org", "D", "--oa-secret", "short"])
    assert args.func(args) == 1
    assert "至少 16 位" in capsys.readouterr().err
    args = build_parser().parse_args(["sim", "--oa", "--demo"])
    with pytest.raises(ValidationError, match="seed-demo"):
        args.func(args)


def test_configuring_an_oa_is_checked_and_scoped(db):
    from hbbudget.services.errors import PermissionDenied

    w = world()
    sys_u = add_user("sys_u", "sys_admin", w.org["unit"])
    for style, url, secret, message in (("feishu", "http://127.0.0.1:1", SECRET, "OA 类型"),
                                        ("wecom", "ftp://oa", SECRET, "OA 地址"),
                                        ("wecom", "http://127.0.0.1:1", "short", "至少 16 位")):
        with pytest.raises(ValidationError, match=message):
            oa.configure(sys_u, w.org["dept"], style, url, secret)
    with pytest.raises(PermissionDenied):
        oa.configure_code(sys_u, "O", "wecom", "http://127.0.0.1:1", SECRET)
    with pytest.raises(ValidationError, match="不存在"):
        oa.configure_code(sys_u, "NOPE", "wecom", "http://127.0.0.1:1", SECRET)
    oa.configure_code(sys_u, "D", "dingtalk", "http://127.0.0.1:1/", SECRET)
    assert [(r["org_name"], r["style"], r["base_url"]) for r in oa.status_rows(sys_u)] == \
        [("信息学院", "钉钉式", "http://127.0.0.1:1")]
    assert SECRET not in _events("oa.config")[0].after


def test_a_poll_and_a_callback_at_once_act_only_once(app_url):
    """Two 院长审批-like stops at the same college in a row: a double apply would pass both."""
    import threading

    sim = OaSim("D", SECRET, "")
    with ThreadedServer(create_app(sim)) as sim_url:
        w = _setup("dingtalk", app_url, sim_url)
        templates.save_template(w.fin, w.org["unit"], "项目申报", [
            {"name": "院长审批", "actor": "unit"}, {"name": "院党委审批", "actor": "unit"},
            {"name": "逐级审核", "actor": "chain"}])
        pid = _declare(w)
        oa.poll_org(w.org["dept"])
        iid = _instance(pid)
        sim.decide(iid, "agree")
        results = []
        threads = [threading.Thread(target=lambda: results.append(oa.apply_outcome(w.org["dept"], iid, "agree", "t")))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results).count("approve") == 1, results
        prog = major.progress(w.fin, _run_id())
        assert [s["state"] for s in prog["stops"]][:2] == ["已通过", "当前"]


def _run_id() -> int:
    from hbbudget.models import ApprovalRun

    with session_scope() as session:
        return session.exec(select(ApprovalRun.id)).first()
