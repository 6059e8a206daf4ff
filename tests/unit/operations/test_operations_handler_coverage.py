"""Every permission-guarded handler of the 运维 pages (数据备份, 历史数据迁移, 系统巡检, 帮助, 反馈处理, 科目年度更新), called (1) by users without its permission and
(2) by a system admin whose grant is not at the root (these pages are global): refused, a `permission.denied`
entry, no change in the database nor the page state (and no backup file written). A new handler on these pages
must be added to CASES (the first test insists). Machinery and world: tests/unit/business_coverage.py."""

import pytest

from hbbudget.pages.operations.backups import BackupState
from hbbudget.pages.operations.health import HealthState
from hbbudget.pages.operations.helpdesk import HelpState
from hbbudget.pages.operations.history_import import HistoryImportState
from hbbudget.pages.operations.subject_update import SubjectUpdateState
from hbbudget.pages.operations.tickets import TicketsState
from hbbudget.services.operations import backup, history
from tests.unit.business_coverage import (
    Case,
    Upload,
    build_world,
    check_cases_cover,
    check_lacking,
    check_out_of_scope,
)

STATES = (BackupState, HistoryImportState, HealthState, HelpState, TicketsState, SubjectUpdateState)
PREP = {s.__name__: lambda w: [(None, "load", ())] for s in STATES}


def _template(w: dict) -> tuple:
    return ([Upload("历史数据.xlsx", history.template_bytes())],)


CASES = {
    "BackupState.load": Case(),
    "BackupState.run_now": Case(),
    "HistoryImportState.load": Case(),
    "HistoryImportState.template": Case(),
    "HistoryImportState.preview": Case(_template),
    "HistoryImportState.apply": Case(_template),
    "HealthState.load": Case(),
    "HealthState.sign_off": Case(lambda w: ({"note": "越权签字"},)),
    # 帮助: reading and voting need only a signed-in user; editing the knowledge base is refused
    "HelpState.open_edit": Case(lambda w: ("0",)),
    "HelpState.save": Case(lambda w: ({"category": "登录与账号", "question": "越权", "answer": "越权"},),
                           more=lambda w: [(None, "open_edit", ("0",))]),
    "HelpState.set_active": Case(lambda w: ("1", False)),
    # 反馈处理 (filing a ticket needs only a signed-in user)
    "TicketsState.load": Case(),
    "TicketsState.reply": Case(lambda w: ({"ticket_id": "1", "text": "越权回复"},)),
    "TicketsState.close": Case(lambda w: ({"ticket_id": "1", "resolution": "越权关闭", "faq_category": "不转"},)),
    "TicketsState.screenshot": Case(lambda w: ("1",)),
    # 科目年度更新 (subject.manage: a system admin below the root holds it, but the update is global)
    "SubjectUpdateState.load": Case(),
    "SubjectUpdateState.choose_year": Case(lambda w: (str(w["year_next"]),)),
    "SubjectUpdateState.preview": Case(lambda w: ([Upload("科目.csv", "编码,名称\n205,教育支出\n".encode())],)),
    "SubjectUpdateState.apply": Case(),
}


def test_every_guarded_handler_of_these_pages_has_a_case():
    check_cases_cover(STATES, CASES)


@pytest.fixture(scope="module")
def world(database_url, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HBB_VAR_DIR", str(tmp_path_factory.mktemp("var")))
        mp.delenv("HBB_BACKUP_DIR", raising=False)
        mp.delenv("HBB_BACKUP_OFFSITE_DIR", raising=False)
        from hbbudget.clock import current_fiscal_year

        yield {**build_world(), "year_next": current_fiscal_year() + 1}


@pytest.mark.parametrize("handler", sorted(CASES))
async def test_refused_without_the_permission(world, handler):
    await check_lacking(world, handler, CASES[handler], STATES, lambda w: "/")
    assert not backup.listed()


@pytest.mark.parametrize("handler", sorted(CASES))
async def test_refused_to_a_system_admin_below_the_root(world, handler):
    await check_out_of_scope(world, handler, CASES[handler], STATES, PREP)
    assert not backup.listed()
