"""历史数据迁移 (issue 17): the dry run reports every row (add, update, refuse with row number and reason); a real
run applies all or nothing, is audited with counts, and a re-run changes nothing; the template round-trips;
csv folders and hostile workbooks."""

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook
from sqlmodel import select

from hbbudget import cli
from hbbudget.db import session_scope
from hbbudget.models import AuditEntry, BankAccount, BankTransaction, Budget, BudgetLine, Project
from hbbudget.services.core import refdata
from hbbudget.services.errors import ValidationError
from hbbudget.services.operations import backup, history, migrate
from tests.factories import make_tree

YEAR = 2024  # a past year with verified reference data


@pytest.fixture
def world(db):
    tree = make_tree()
    with session_scope() as session:
        refdata.load_all(session, [YEAR])
        session.add(BankAccount(org_id=tree["unit"], number="13010100000001", name="示范大学基本户"))
    return tree


def _book(path, sheets: dict[str, list[list]]) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        ws.append(list(history.SHEETS[name]))
        for row in rows:
            ws.append(row)
    wb.save(path)


GOOD = {
    "项目": [["H2024P001", "教学设备购置", "U", "3", YEAR, YEAR, 500000, "2050205", "已完成"],
             ["H2024P002", "学科建设", "D", "3", YEAR, YEAR, "80000.50", "2050205", ""]],
    "预算": [["U", YEAR, "500100"]],
    "预算明细": [["U", YEAR, "H2024P001", "31002", "2050205", "财政拨款", 500000, "设备"],
                 ["U", YEAR, "", "30201", "2050205", "事业收入", "100", "办公费"]],
    "交易": [["13010100000001", "HIST-1", f"{YEAR}-06-30", "-123456.78", "某设备公司", "设备款"],
             ["13010100000001", "HIST-2", f"{YEAR}-07-01", "5000", "省财政厅", "拨款"]],
}


def _counts() -> dict[str, int]:
    with session_scope() as session:
        return {"project": len(session.exec(select(Project)).all()), "budget": len(session.exec(select(Budget)).all()),
                "line": len(session.exec(select(BudgetLine)).all()),
                "tx": len(session.exec(select(BankTransaction)).all())}


def test_dry_run_then_apply_then_rerun_changes_nothing(world, tmp_path, capsys):
    _book(tmp_path / "历史数据.xlsx", GOOD)
    before = backup.live_content()["tables"]
    assert cli.main(["migrate-import", str(tmp_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "[项目] 第 2 行 H2024P001：新增" in out and "[交易] 第 3 行 13010100000001 HIST-2：新增" in out
    assert "新增 7 行，更新 0 行，不变 0 行，拒绝 0 行" in out
    assert backup.live_content()["tables"] == before  # the dry run wrote nothing, not even an audit entry
    assert cli.main(["migrate-import", str(tmp_path)]) == 0
    assert _counts() == {"project": 2, "budget": 1, "line": 2, "tx": 2}
    with session_scope() as session:
        budget = session.exec(select(Budget)).one()
        assert (budget.fiscal_year, budget.status, budget.last_comment) == (YEAR, "已批复", migrate.MARK)
        amounts = sorted(line.amount for line in session.exec(select(BudgetLine)).all())
        assert amounts == [10_000, 50_000_000]
        tx = session.exec(select(BankTransaction).where(BankTransaction.bank_ref == "HIST-1")).one()
        assert tx.amount == -12_345_678 and tx.match_status == "无需匹配"
        assert session.exec(select(Project).where(Project.code == "H2024P002")).one().total == 8_000_050
        entry = session.exec(select(AuditEntry).where(AuditEntry.event_type == "history.import")).one()
        assert "新增 7 行" in entry.detail
    # the same file again: all 不变, nothing written but the audit entry
    applied = backup.live_content()["tables"]
    report = migrate.run(history.read_folder(tmp_path, 10 << 20), dry_run=False)
    assert report.counts() == {"新增": 0, "更新": 0, "不变": 7, "拒绝": 0}
    again = backup.live_content()["tables"]
    assert {k: v for k, v in again.items() if k != "auditentry"} == \
        {k: v for k, v in applied.items() if k != "auditentry"}
    # a changed amount is an update of that project and that transaction
    changed = {**GOOD, "项目": [GOOD["项目"][0][:6] + [600000] + GOOD["项目"][0][7:], GOOD["项目"][1]],
               "交易": [GOOD["交易"][0][:4] + ["改名公司", "设备款"], GOOD["交易"][1]]}
    _book(tmp_path / "历史数据.xlsx", changed)
    report = migrate.run(history.read_folder(tmp_path, 10 << 20), dry_run=False)
    assert report.counts() == {"新增": 0, "更新": 2, "不变": 5, "拒绝": 0}
    with session_scope() as session:
        assert session.exec(select(Project).where(Project.code == "H2024P001")).one().total == 60_000_000


def test_refusals_carry_row_numbers_and_reasons_and_nothing_is_written(world, tmp_path, capsys):
    bad = {
        "项目": [GOOD["项目"][0],
                 ["H2024P009", "未知单位的项目", "NOPE", "3", YEAR, YEAR, 1, "2050205", ""],
                 ["H2024P010", "科目无效", "U", "3", YEAR, YEAR, 1, "9999999", ""],
                 GOOD["项目"][0]],
        "预算": [["U", YEAR, "999"]],
        "预算明细": GOOD["预算明细"],
        "交易": [["99999", "X-1", f"{YEAR}-01-01", "-1", "", ""], GOOD["交易"][0]],
    }
    _book(tmp_path / "h.xlsx", bad)
    before = backup.live_content()["tables"]
    assert cli.main(["migrate-import", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "[项目] 第 3 行 H2024P009：拒绝：未知单位编码“NOPE”" in out
    assert "[项目] 第 4 行 H2024P010：拒绝：功能分类科目“9999999”在 2024 年度无效" in out
    assert "[项目] 第 5 行 H2024P001：拒绝：与第 2 行重复" in out
    assert "[预算] 第 2 行 U 2024：拒绝：明细合计 ¥500,100.00 与预算总额 ¥999.00 不相等" in out
    assert "[预算明细] 第 2 行 U 2024：拒绝：所属预算被拒绝" in out
    assert "[交易] 第 2 行 99999 X-1：拒绝：未知银行账号“99999”" in out
    assert "未导入任何数据" in err
    assert backup.live_content()["tables"] == before


def test_this_year_and_a_budget_made_in_the_system_are_refused(world, tmp_path):
    from hbbudget.clock import current_fiscal_year

    with session_scope() as session:
        session.add(Budget(org_id=world["unit"], fiscal_year=YEAR, round="二下", status="已批复"))
    sheets = {"项目": [(2, dict(zip(history.SHEETS["项目"], ["H1", "本年项目", "U", "3", str(current_fiscal_year()),
                                                             str(current_fiscal_year()), "1", "2050205", ""])))],
              "预算": [(2, {"单位编码": "U", "年度": str(YEAR), "预算总额（元）": "100"})],
              "预算明细": [(2, dict(zip(history.SHEETS["预算明细"], ["U", str(YEAR), "", "30201", "2050205", "财政拨款",
                                                                   "100", ""])))]}
    report = migrate.run(sheets, dry_run=True)
    reasons = [i.reason for i in report.refused]
    assert any("不是以前年度" in r for r in reasons), reasons
    assert any("已有系统内编制的预算" in r for r in reasons), reasons


def test_csv_folder_and_template_round_trip(world, tmp_path, capsys):
    out = tmp_path / "tpl.xlsx"
    assert cli.main(["migrate-import", "--template", str(out)]) == 0
    sheets = history.read_workbook(out.read_bytes())
    assert list(sheets) == list(history.SHEETS) and all(len(rows) == 1 for rows in sheets.values())
    folder = tmp_path / "csv"
    folder.mkdir()
    with open(folder / "交易.csv", "w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(history.SHEETS["交易"])
        w.writerow(["13010100000001", "CSV-1", f"{YEAR}-03-01", "-10.5", "供应商", "中文摘要"])
    report = migrate.run(history.read_folder(folder, 10 << 20), dry_run=False)
    assert report.counts()["新增"] == 1 and _counts()["tx"] == 1


def test_hostile_and_malformed_files_are_refused_in_chinese(world, tmp_path):
    with pytest.raises(ValidationError, match="不是有效的 xlsx"):
        history.read_workbook(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/big.xml", b"0" * (210 * 1024 * 1024))
    with pytest.raises(ValidationError, match="过大"):
        history.read_workbook(bomb.getvalue())
    wb = Workbook()
    ws = wb.active
    ws.title = "交易"
    ws.append(["银行账号", "交易流水号"])
    path = tmp_path / "x.xlsx"
    wb.save(path)
    with pytest.raises(ValidationError, match="缺少列：记账日期"):
        history.read_folder(tmp_path, 10 << 20)
    with pytest.raises(ValidationError, match="文件过大"):
        history.read_folder(tmp_path, 10)
    with pytest.raises(ValidationError, match="目录不存在"):
        history.read_folder(tmp_path / "none", 10 << 20)


async def test_the_page_previews_then_applies_the_same_file(world):
    import reflex as rx

    import hbbudget.hbbudget  # noqa: F401
    from hbbudget.pages.operations.history_import import HistoryImportState
    from hbbudget.services.security import auth
    from state.session import SessionState
    from tests.factories import PASSWORD, make_user
    from tests.unit.business_coverage import Upload

    make_user("sys", "sys_admin", world["prov"])
    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login("sys", PASSWORD)[0]
    page = await root.get_state(HistoryImportState)
    await page.load()
    assert "download" in str(await page.template()).lower()
    template = history.template_bytes()  # its example rows are valid for this world
    before = _counts()
    for name, data, message in (("x.csv", b"a,b", "只能上传 .xlsx"), ("x.xlsx", b"not a zip", "不是有效的 xlsx"),
                                ("x.xlsx", b"PK\x03\x04" + b"0" * 100, "无法读取")):
        result = await page.preview([Upload(name, data)])
        assert message in str(result) and not page.ok
    result = await page.apply([Upload("t.xlsx", template)])
    assert "请先预览" in str(result) and _counts() == before
    await page.preview([Upload("t.xlsx", template)])
    assert page.ok and page.summary.startswith("新增 4 行") and {r["action"] for r in page.rows} == {"新增"}
    other = io.BytesIO()
    Workbook().save(other)
    result = await page.apply([Upload("t.xlsx", other.getvalue())])
    assert "请先预览" in str(result) and _counts() == before
    result = await page.apply([Upload("t.xlsx", template)])
    assert "已导入" in str(result)
    assert _counts() == {"project": 1, "budget": 1, "line": 1, "tx": 1}
