"""备份 (系统管理员 at the root, admin.settings): the backups in HBB_BACKUP_DIR with their manifest (time, size,
SHA-256, schema revision, audit head), whether the 异地 copy is present and intact, the last run's result, and
立即备份. Restoring is done on the server (`hbbudget restore FILE`), never from the browser."""

from __future__ import annotations

import asyncio

import reflex as rx

from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.operations import backup
from hbbudget.services.security.permissions import UserContext
from state.guard import guarded

PERMISSION = backup.PERMISSION
OFFSITE_COLORS = {"已复制": "green", "缺失": "red", "未配置": "gray"}
COLUMNS = ("时间", "文件", "大小", "SHA-256（前 16 位）", "结构版本", "审计末条", "方式", "异地副本")


class BackupState(rx.State):
    rows: list[dict[str, str]] = []
    folder: str = ""
    offsite: str = ""
    last: str = ""
    last_ok: bool = True

    async def _refresh(self, ctx: UserContext) -> None:
        data = await asyncio.to_thread(backup.overview, ctx)
        self.rows, self.folder, self.offsite = data["rows"], data["folder"], data["offsite"]
        self.last, self.last_ok = data["last"], data["ok"]

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        await self._refresh(ctx)

    @rx.event
    @guarded(PERMISSION)
    async def run_now(self, ctx: UserContext):
        try:
            made = await asyncio.to_thread(backup.run_now, ctx)
        except (OSError, RuntimeError) as err:
            await self._refresh(ctx)
            return rx.toast.error(f"备份失败：{err}")
        await self._refresh(ctx)
        return rx.toast.success(f"已备份：{made.path.name}（异地：{made.manifest['offsite']}）")


S = BackupState


@app_page(routes.BACKUPS, "数据备份", "admin.settings", menu="database-backup", on_load=BackupState.load)
def backups_page() -> rx.Component:
    return rx.vstack(
        rx.text("备份目录：", S.folder, "；异地目录：", S.offsite, "。每日 01:00 自动备份，保留最近 14 天每天一份、"
                "最近 12 个月每月一份。恢复须在服务器上运行 hbbudget restore 文件名（只恢复到空数据库）。",
                size="2", color_scheme="gray"),
        rx.hstack(rx.badge(rx.cond(S.last_ok, "最近一次：成功", "最近一次：失败"),
                           color_scheme=rx.cond(S.last_ok, "green", "red")),
                  rx.text(S.last, size="2", id="backup-last"),
                  rx.spacer(), rx.button("立即备份", on_click=S.run_now, id="backup-now"),
                  align="center", width="100%"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in COLUMNS])),
            rx.table.body(rx.foreach(S.rows, lambda r: rx.table.row(
                rx.table.cell(r["created"]), rx.table.cell(r["file"]), rx.table.cell(r["size"]),
                rx.table.cell(rx.code(r["sha256"])), rx.table.cell(r["revision"]), rx.table.cell(r["audit_head"]),
                rx.table.cell(r["trigger"]),
                rx.table.cell(rx.badge(r["offsite"], color_scheme=rx.match(r["offsite"], *OFFSITE_COLORS.items(),
                                                                           "gray"))),
            ))),
            variant="surface", size="1", width="100%", id="backup-list"),
        rx.cond(S.rows.length() == 0, rx.text("还没有备份。", color_scheme="gray")),
        spacing="4", width="100%",
    )
