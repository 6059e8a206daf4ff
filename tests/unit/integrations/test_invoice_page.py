"""The 电子发票 page as its user drives it: load, choose a payment, upload (XML, then a PDF with typed fields),
a second upload of the same invoice refused, 查验 against the simulator."""

from __future__ import annotations

from datetime import date

import pytest
import reflex as rx

import hbbudget.hbbudget  # noqa: F401
from hbbudget.db import session_scope
from hbbudget.models import BankAccount
from hbbudget.pages.integrations.invoices import InvoicesState
from hbbudget.services.security import auth
from hbbudget.sim.invoice import InvoiceSim, create_app
from hbbudget.sim.server import ThreadedServer
from state.session import SessionState
from tests.factories import PASSWORD, bank_tx, make_tree, make_user
from tests.unit.business_coverage import Upload
from tests.unit.integrations import invoice_files as gen


async def _page(sid: str) -> InvoicesState:
    root = rx.State()
    (await root.get_state(SessionState)).sid = sid
    return await root.get_state(InvoicesState)


@pytest.fixture
def setup(db, monkeypatch):
    tree = make_tree()
    with session_scope() as session:
        acct = BankAccount(org_id=tree["unit"], number="A1", name="基本户")
        session.add(acct)
        session.flush()
        aid = acct.id
    tx = bank_tx(aid, tree["unit"], "P1", -500_000, counterparty="河北智联科技服务有限公司",
                 booking_date=date(2026, 4, 2))
    with session_scope() as session:
        theirs = BankAccount(org_id=tree["other"], number="B1", name="基本户")
        session.add(theirs)
        session.flush()
        bid = theirs.id
    other_tx = bank_tx(bid, tree["other"], "T1", -500_000, booking_date=date(2026, 4, 3))
    make_user("kuaiji", "accountant", tree["unit"])
    make_user("outsider", "accountant", tree["other"])
    sim = InvoiceSim(strict=True)
    with ThreadedServer(create_app(sim)) as url:
        monkeypatch.setenv("HBB_INVOICE_URL", url)
        yield {"tx": tx, "other_tx": other_tx, "sid": auth.login("kuaiji", PASSWORD)[0],
               "outsider": auth.login("outsider", PASSWORD)[0], "sim": sim}


async def test_attach_and_verify_from_the_page(setup) -> None:
    page = await _page(setup["sid"])
    await page.load()
    assert [t["value"] for t in page.targets] == [f"transaction:{setup['tx']}"]
    assert "河北智联科技服务有限公司" in page.targets[0]["label"] and page.invoices == []
    result = await page.upload([Upload("a.xml", gen.sdp_xml())])
    assert "请先选择" in str(result)
    await page.choose_target(f"transaction:{setup['tx']}")
    result = await page.upload([Upload("a.xml", gen.sdp_xml())])
    assert "已关联发票 26132000000012345678" in str(result)
    assert [i["key"] for i in page.target_invoices] == ["26132000000012345678"]
    again = await page.upload([Upload("b.xml", gen.sdp_xml())])
    assert "已报销过" in str(again) and "示范大学" in str(again)
    assert "PDF 发票须手工填写" in str(await page.upload([Upload("c.pdf", b"%PDF-1.4 x")]))
    await page.set_manual({"number": "26132000000000000777", "date": "2026-04-01", "amount": "100.00",
                           "tax": "6.00", "total": "", "seller_name": "河北省机关印刷厂"})
    assert "已关联发票 26132000000000000777（¥106.00）" in str(await page.upload([Upload("c.pdf", b"%PDF-1.4 x")]))
    assert len(page.invoices) == 2
    setup["sim"].register("", "26132000000012345678", "2026-04-01", "1590.00", "作废")
    sdp_id = next(i["id"] for i in page.invoices if i["key"] == "26132000000012345678")
    assert "查验结果：作废" in str(await page.verify(sdp_id))
    assert next(i for i in page.invoices if i["id"] == sdp_id)["verify_status"] == "作废"


async def test_crafted_calls_cannot_reuse_an_invoice_or_reach_another_unit(setup) -> None:
    mine = await _page(setup["sid"])
    await mine.load()
    await mine.choose_target(f"transaction:{setup['tx']}")
    assert "已关联发票" in str(await mine.upload([Upload("a.xml", gen.sdp_xml())]))
    theirs = await _page(setup["outsider"])
    await theirs.load()
    crafted = await theirs.choose_target(f"transaction:{setup['tx']}")  # the other unit's payment: never offered
    assert "不在列表中" in str(crafted) and theirs.target == ""
    await theirs.choose_target(f"transaction:{setup['other_tx']}")
    again = str(await theirs.upload([Upload("same.xml", gen.sdp_xml())]))
    assert "已报销过" in again and "其他单位" in again and "示范大学" not in again
    assert theirs.invoices == [] and theirs.target_invoices == []
    assert "不在列表中" in str(await theirs.verify(mine.invoices[0]["id"]))
