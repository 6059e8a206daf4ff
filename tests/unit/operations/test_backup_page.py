"""The 数据备份 page as the 系统管理员 at the root: 立即备份 writes a backup and its 异地 copy, the list shows it."""

import reflex as rx

import hbbudget.hbbudget  # noqa: F401  (imports every page and state)
from hbbudget.pages.operations.backups import BackupState
from hbbudget.services.operations import backup
from hbbudget.services.security import auth
from state.session import SessionState
from tests.factories import PASSWORD, make_tree, make_user


async def _page(username: str) -> BackupState:
    root = rx.State()
    (await root.get_state(SessionState)).sid = auth.login(username, PASSWORD)[0]
    return await root.get_state(BackupState)


async def test_backup_now_from_the_page(db, tmp_path, monkeypatch):
    monkeypatch.setenv("HBB_BACKUP_DIR", str(tmp_path / "b"))
    monkeypatch.setenv("HBB_BACKUP_OFFSITE_DIR", str(tmp_path / "o"))
    tree = make_tree()
    make_user("sys", "sys_admin", tree["prov"])
    page = await _page("sys")
    await page.load()
    assert page.rows == [] and page.last == "尚无备份记录"
    result = await page.run_now()
    assert "已备份" in str(result)
    [made] = backup.listed()
    assert [r["file"] for r in page.rows] == [made.path.name]
    assert page.rows[0]["offsite"] == "已复制" and page.rows[0]["trigger"] == "页面" and page.last_ok
    assert page.rows[0]["sha256"] == made.manifest["sha256"][:16]
    # the 异地 copy goes missing: the page says so
    (tmp_path / "o" / made.path.name).unlink()
    await page.load()
    assert page.rows[0]["offsite"] == "缺失"
