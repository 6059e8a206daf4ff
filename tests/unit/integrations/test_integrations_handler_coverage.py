"""Every permission-guarded handler of the integration pages (电子发票), called by users lacking its permission and
by a holder whose scope excludes the other unit (see tests/unit/business_coverage.py): refused with an entry, or
(no_context) an error, and no change; the list shows nothing of the other unit. O holds an invoice on its payment."""

import json

import pytest

from hbbudget.db import session_scope
from hbbudget.models import FincloudImport
from hbbudget.pages.integrations.fincloud import FincloudState
from hbbudget.pages.integrations.invoices import InvoicesState
from hbbudget.services.integrations import invoices
from hbbudget.services.security import auth
from tests.factories import PASSWORD
from tests.unit.business_coverage import Case, Upload, build_world, check_lacking, check_out_of_scope, guarded_handlers
from tests.unit.integrations import invoice_files as gen

STATES = (InvoicesState, FincloudState)
PREP = {"InvoicesState": lambda w: [(None, "load", ())], "FincloudState": lambda w: [(None, "load", ())]}
H, R, NC, L = "harmless", "rejected", "no_context", "list"
SMALL = [("*他方商品*耗材", "100.00", "6%", "6.00")]

CASES = {
    "InvoicesState.load": Case(expect=L, shows="示范大学"),
    "InvoicesState.choose_target": Case(lambda w: (f"transaction:{w['o_tx']}",), R),
    "InvoicesState.set_manual": Case(lambda w: ({"number": "26132000000000000001", "total": "1.00"},), H),
    # no payment chosen (O's was never offered): nothing to attach to
    "InvoicesState.upload": Case(lambda w: ([Upload("a.xml", gen.fp_xml("20000009", goods=SMALL))],), NC),
    "InvoicesState.verify": Case(lambda w: (str(w["o_invoice"]),), R),
    # 财政云指标 (the head of U reviews U): a batch naming only O is never offered
    "FincloudState.load": Case(expect=L, shows="可确认"),
    "FincloudState.open_import": Case(lambda w: (str(w["o_import"]),), R),
    "FincloudState.confirm": Case(expect=NC),  # no batch opened
    "FincloudState.reject": Case(lambda w: ({"reason": "越权拒绝"},), NC),
}


def test_every_guarded_handler_of_these_pages_has_a_case():
    assert sorted(guarded_handlers(STATES)) == sorted(CASES)


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HBB_VAR_DIR", str(tmp_path_factory.mktemp("var")))
        w = build_world()
        other = auth.login("kuaiji_o", PASSWORD)[1]
        w["o_invoice"] = invoices.attach(other, "transaction", w["o_tx"], "他方.xml",
                                         gen.fp_xml("20000001", goods=SMALL))["id"]
        mine = auth.login("kuaiji_maker", PASSWORD)[1]
        w["u_invoice"] = invoices.attach(mine, "transaction", w["u_tx"], "本方.xml",
                                         gen.fp_xml("20000002", goods=[("*本方商品*纸", "100.00", "6%", "6.00")]))["id"]
        for side, key in (("o", "other"), ("u", "unit")):
            with session_scope() as session:
                imp = FincloudImport(fiscal_year=2026, digest=side, org_ids=json.dumps([w[key]]), indicators=json.dumps(
                    [{"ind_id": side, "agency": "X", "project": "", "econ": "30201", "func": "2050205",
                      "source": "财政拨款", "amount": 100}]))
                session.add(imp)
                session.flush()
                w[f"{side}_import"] = imp.id
        yield w


@pytest.mark.parametrize("handler", sorted(CASES))
async def test_refused_without_the_permission(world, handler):
    await check_lacking(world, handler, CASES[handler], STATES, lambda w: "/")


@pytest.mark.parametrize("handler", sorted(CASES))
async def test_out_of_scope_changes_and_shows_nothing_of_the_other_unit(world, handler):
    await check_out_of_scope(world, handler, CASES[handler], STATES, PREP)
