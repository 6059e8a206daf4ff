"""Invoices attached to payments and manual expenditures: amounts, never twice (also concurrently), verification
against the invoice simulator over real HTTP, 作废/红冲 flagged in the 预警中心."""

from __future__ import annotations

import os
import threading
from datetime import date

import httpx
import pytest
from sqlmodel import select

from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, BankAccount, ExecAlert, Invoice
from hbbudget.services.errors import PermissionDenied, ValidationError
from hbbudget.services.execution import alerts, matching
from hbbudget.services.integrations import invoices
from hbbudget.sim.invoice import InvoiceSim, create_app
from hbbudget.sim.server import ThreadedServer
from tests.factories import approved_budget, bank_tx, ctx_for, make_tree, make_user
from tests.unit.integrations import invoice_files as gen

YEAR = 2026


@pytest.fixture
def world(db):
    tree = make_tree()
    with session_scope() as session:
        mine = BankAccount(org_id=tree["unit"], number="A1", name="基本户")
        theirs = BankAccount(org_id=tree["other"], number="B1", name="基本户")
        session.add_all([mine, theirs])
        session.flush()
        accounts = (mine.id, theirs.id)
    _, [line] = approved_budget(tree["unit"], [(None, "30201", 10_000_000)], YEAR)
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("outsider", "accountant", tree["other"])
    make_user("shengji", "accountant", tree["prov"])
    pay = {name: bank_tx(accounts[0], tree["unit"], name, amount, booking_date=date(YEAR, 3, 10))
           for name, amount in (("P1", -31_800), ("P2", -200_000), ("SMALL", -30_000), ("IN", 50_000))}
    pay["THEIRS"] = bank_tx(accounts[1], tree["other"], "T1", -500_000, booking_date=date(YEAR, 3, 11))
    return {**tree, "line": line, "pay": pay}


@pytest.fixture
def sample(shared_dir: str) -> bytes:
    with open(os.path.join(shared_dir, "samples", "invoice", "einvoice2020_test-env.ofd"), "rb") as f:
        return f.read()


def _count() -> int:
    with session_scope() as session:
        return len(session.exec(select(Invoice.id)).all())


def test_attach_to_a_payment_and_list(world, sample) -> None:
    ctx = ctx_for("kuaiji")
    out = invoices.attach(ctx, "transaction", world["pay"]["P1"], "发票.ofd", sample)
    assert out["key"] == "050001700111-99999951" and out["total"] == "¥318.00"
    [row] = invoices.list_for(ctx, "transaction", world["pay"]["P1"])
    assert (row["seller_name"], row["date"], row["verify_status"]) == ("杭州融易算企业管理咨询有限公司", "2020-10-10", "未查验")
    with session_scope() as session:
        inv = session.get(Invoice, out["id"])
        assert (inv.total, inv.amount, inv.tax, inv.content) == (31_800, 30_000, 1_800, sample)
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "invoice.attach")).one()
        assert entry.object_id == str(out["id"])


def test_amounts_may_not_exceed_the_payment(world, sample) -> None:
    ctx = ctx_for("kuaiji")
    with pytest.raises(ValidationError, match="超过付款金额"):
        invoices.attach(ctx, "transaction", world["pay"]["SMALL"], "a.ofd", sample)
    invoices.attach(ctx, "transaction", world["pay"]["P2"], "b.xml", gen.fp_xml("10000001"))  # 1286.00
    with pytest.raises(ValidationError, match="发票金额合计 ¥2,572.00 超过付款金额 ¥2,000.00"):
        invoices.attach(ctx, "transaction", world["pay"]["P2"], "c.xml", gen.fp_xml("10000002"))
    red = gen.fp_xml("10000009", goods=[("*办公用品*退货", "-100.00", "13%", "-13.00")])
    with pytest.raises(ValidationError, match="红字（负数）发票不能作为报销凭证"):
        invoices.attach(ctx, "transaction", world["pay"]["P2"], "red.xml", red)
    with pytest.raises(ValidationError, match="只有未冲正的付款"):
        invoices.attach(ctx, "transaction", world["pay"]["IN"], "d.xml", gen.fp_xml("10000003"))
    assert _count() == 1


def test_never_twice_across_orgs_and_the_refusal_names_only_what_the_user_may_see(world, sample) -> None:
    invoices.attach(ctx_for("kuaiji"), "transaction", world["pay"]["P1"], "a.ofd", sample)
    with pytest.raises(invoices.DuplicateInvoice, match="已报销过.*已关联到示范大学 2026-03-10 的付款") as err:
        invoices.attach(ctx_for("kuaiji"), "transaction", world["pay"]["P2"], "again.ofd", sample)
    with pytest.raises(invoices.DuplicateInvoice) as err:
        invoices.attach(ctx_for("outsider"), "transaction", world["pay"]["THEIRS"], "a.ofd", sample)
    assert "已关联到其他单位" in str(err.value) and "示范大学" not in str(err.value)
    with pytest.raises(invoices.DuplicateInvoice, match="示范大学"):  # the province sees both units
        invoices.attach(ctx_for("shengji"), "transaction", world["pay"]["THEIRS"], "a.ofd", sample)
    assert _count() == 1


def test_the_same_invoice_as_ofd_and_as_xml_is_one_invoice(world, sample) -> None:
    import zipfile
    from io import BytesIO

    xml = zipfile.ZipFile(BytesIO(sample)).read("Doc_0/Attachs/original_invoice.xml")
    invoices.attach(ctx_for("kuaiji"), "transaction", world["pay"]["P1"], "a.ofd", sample)
    with pytest.raises(invoices.DuplicateInvoice):
        invoices.attach(ctx_for("kuaiji"), "transaction", world["pay"]["P2"], "a.xml", xml)


def test_two_concurrent_attaches_one_wins(world) -> None:
    data = gen.sdp_xml()  # 1590.00, fits both payments below
    targets = [world["pay"]["P2"], world["pay"]["THEIRS"]]
    users = [ctx_for("kuaiji"), ctx_for("outsider")]
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = invoices.attach(users[i], "transaction", targets[i], "x.xml", data)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, invoices.DuplicateInvoice)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert _count() == 1


def test_scope_and_bad_files(world, sample, monkeypatch) -> None:
    with pytest.raises(PermissionDenied, match="示范大学"):
        invoices.attach(ctx_for("outsider"), "transaction", world["pay"]["P1"], "a.ofd", sample)
    with pytest.raises(PermissionDenied):
        invoices.list_for(ctx_for("outsider"), "transaction", world["pay"]["P1"])
    ctx = ctx_for("kuaiji")
    with pytest.raises(ValidationError, match="禁止 DTD/实体声明"):
        invoices.attach(ctx, "transaction", world["pay"]["P2"], "x.xml",
                        gen.fp_xml(extra='<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'))
    with pytest.raises(ValidationError, match="只能关联到付款或手工支出"):
        invoices.attach(ctx, "budget", world["pay"]["P2"], "x.xml", gen.fp_xml())
    monkeypatch.setenv("HBB_MAX_UPLOAD_BYTES", "1000")
    with pytest.raises(ValidationError, match="文件过大"):
        invoices.attach(ctx, "transaction", world["pay"]["P1"], "a.ofd", sample)
    assert _count() == 0


def test_pdf_needs_typed_fields_and_manual_expenditure(world) -> None:
    ctx = ctx_for("kuaiji")
    spent = matching.record_manual(ctx, world["line"], "500.00", date(YEAR, 4, 1), "现金报销")
    pdf = b"%PDF-1.7\n% scanned invoice\n"
    with pytest.raises(ValidationError, match="PDF 发票须手工填写.*缺少发票号码"):
        invoices.attach(ctx, "expenditure", spent, "a.pdf", pdf)
    fields = {"number": "26132000000099990000", "date": "2026-03-31", "amount": "400.00", "tax": "52.00",
              "seller_name": "河北省机关印刷厂"}
    out = invoices.attach(ctx, "expenditure", spent, "a.pdf", pdf, fields)
    [row] = invoices.list_for(ctx, "expenditure", spent)
    assert (row["key"], row["total"], row["kind"]) == ("26132000000099990000", "¥452.00", "电子发票（PDF）")
    with pytest.raises(invoices.DuplicateInvoice, match="的手工支出"):
        invoices.attach(ctx, "transaction", world["pay"]["P2"], "b.pdf", pdf, fields)
    assert out["id"]


@pytest.fixture
def platform(monkeypatch):
    sim = InvoiceSim(strict=True)
    with ThreadedServer(create_app(sim)) as url:
        monkeypatch.setenv("HBB_INVOICE_URL", url)
        monkeypatch.setenv("HBB_INVOICE_TIMEOUT_SECONDS", "2")
        yield sim, url


def test_verification_stores_each_answer_and_its_time(world, sample, platform) -> None:
    sim, url = platform
    ctx = ctx_for("kuaiji")
    first = invoices.attach(ctx, "transaction", world["pay"]["P1"], "a.ofd", sample)["id"]
    assert invoices.verify(ctx, first)["status"] == "不存在"
    sim.register("050001700111", "99999951", "2020-10-10", "318.00")
    result = invoices.verify(ctx, first)
    assert result["status"] == "正常" and result["verified_at"]
    second = invoices.attach(ctx, "transaction", world["pay"]["P2"], "b.xml", gen.fp_xml("10000001"))["id"]
    sim.register("013001900111", "10000001", "2026-03-09", "999.00")
    assert invoices.verify(ctx, second)["status"] == "信息不符"
    httpx.post(f"{url}/admin/faults", json={"kind": "http500"})
    failed = invoices.verify(ctx, second)
    assert failed["status"] == "查验失败" and "HTTP 500" in failed["error"]
    with session_scope() as session:
        stored = session.get(Invoice, second)
        assert stored.verify_status == "查验失败" and stored.verified_at is not None
    with pytest.raises(PermissionDenied):
        invoices.verify(ctx_for("outsider"), first)
    assert sim.calls == 3  # 不存在, 正常, 信息不符: the 500 never reached the books, the outsider never called


def test_a_voided_invoice_is_flagged_once_in_the_alert_centre(world, sample, platform) -> None:
    sim, url = platform
    ctx = ctx_for("kuaiji")
    iid = invoices.attach(ctx, "transaction", world["pay"]["P1"], "a.ofd", sample)["id"]
    sim.register("050001700111", "99999951", "2020-10-10", "318.00")
    assert invoices.recheck() == {"checked": 1, "flagged": 0, "failed": 0}
    sim.register("050001700111", "99999951", "2020-10-10", "318.00", "红冲")
    assert invoices.recheck() == {"checked": 1, "flagged": 1, "failed": 0}
    rows, total = alerts.list_alerts(ctx, kind="invoice")
    assert total == 1 and "已报销发票红冲：050001700111-99999951" in rows[0]["title"]
    assert alerts.list_alerts(ctx_for("outsider"), kind="invoice")[1] == 0
    invoices.verify(ctx, iid)  # asked again by hand: still one alert
    with session_scope() as session:
        assert len(session.exec(select(ExecAlert).where(ExecAlert.kind == "invoice")).all()) == 1
    assert invoices.recheck() == {"checked": 0, "flagged": 0, "failed": 0}  # 红冲 is final
