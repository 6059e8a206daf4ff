"""电子发票: the invoices of the units in scope, and attaching one (OFD / XML / XBRL, or a PDF with its fields
typed by hand) to a payment or a manual expenditure the page offers; 查验 asks the invoice platform again.
Everything is decided in services/integrations/invoices.py (never twice, within the payment, scope)."""

from __future__ import annotations

import asyncio

import reflex as rx

from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import NotOffered, ValidationError
from hbbudget.services.integrations import invoices
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings
from state import args
from state.guard import guarded

UPLOAD_ID = "invoice-upload"
MANUAL = (("number", "发票号码", 20), ("code", "发票代码（数电票留空）", 12), ("date", "开票日期", 10),
          ("amount", "金额（不含税）", 20), ("tax", "税额", 20), ("total", "价税合计", 20),
          ("seller_name", "销售方名称", 140), ("seller_tax_id", "销售方纳税人识别号", 32))
STATUS_COLORS = {"正常": "green", "作废": "red", "红冲": "red", "不存在": "orange", "信息不符": "orange",
                 "查验失败": "gray", "未查验": "gray"}


class InvoicesState(rx.State):
    invoices: list[dict[str, str]] = []
    targets: list[dict[str, str]] = []
    target: str = ""
    target_invoices: list[dict[str, str]] = []
    manual_note: str = ""
    _invoice_ids: list[int] = []
    _target_values: list[str] = []
    _manual: dict[str, str] = {}

    async def _refresh(self, ctx: UserContext) -> None:
        rows = await asyncio.to_thread(invoices.recent, ctx)
        self._invoice_ids = [r["id"] for r in rows]
        self.invoices = [{k: str(v) for k, v in r.items()} for r in rows]
        can_match = bool(ctx.scope_paths("execution.match"))
        self.targets = await asyncio.to_thread(invoices.targets, ctx) if can_match else []
        self._target_values = [t["value"] for t in self.targets]
        if self.target:
            kind, _, tid = self.target.partition(":")
            found = await asyncio.to_thread(invoices.list_for, ctx, kind, tid)
            self.target_invoices = [{k: str(v) for k, v in r.items()} for r in found]

    @rx.event
    @guarded("execution.view")
    async def load(self, ctx: UserContext):
        self.target, self.target_invoices, self._manual, self.manual_note = "", [], {}, ""
        await self._refresh(ctx)

    @rx.event
    @guarded("execution.match")
    async def choose_target(self, ctx: UserContext, value: str):
        if not isinstance(value, str) or value not in self._target_values:
            raise NotOffered("该付款或支出不在列表中")
        self.target = value
        await self._refresh(ctx)

    @rx.event
    @guarded("execution.match")
    async def set_manual(self, ctx: UserContext, form: dict):
        data = args.form(form)
        self._manual = {key: args.field(data, key, label, size) for key, label, size in MANUAL}
        self.manual_note = f"已填写 PDF 发票信息：号码 {self._manual['number'] or '（空）'}"
        return rx.toast.info("PDF 发票信息已暂存，上传 PDF 时使用")

    @rx.event
    @guarded("execution.match")
    async def upload(self, ctx: UserContext, files: list[rx.UploadFile]):
        if not self.target:
            raise ValidationError("请先选择要关联发票的付款或手工支出")
        if not isinstance(files, list) or len(files) != 1:
            raise ValidationError("请选择 1 个发票文件")
        limit = get_settings().max_upload_bytes
        f = files[0]
        if f.size is not None and f.size > limit:
            raise ValidationError(f"文件过大：不能超过 {limit // (1024 * 1024)} MB")
        data = await asyncio.to_thread(f.file.read, limit + 1)
        kind, _, tid = self.target.partition(":")
        out = await asyncio.to_thread(invoices.attach, ctx, kind, tid, str(f.name or "")[:200], data, self._manual)
        await self._refresh(ctx)
        return [rx.clear_selected_files(UPLOAD_ID), rx.toast.success(f"已关联发票 {out['key']}（{out['total']}）")]

    @rx.event
    @guarded("execution.match")
    async def verify(self, ctx: UserContext, invoice_id: str):
        iid = args.offered_id(invoice_id, self._invoice_ids, "发票", "该发票不在列表中")
        result = await asyncio.to_thread(invoices.verify, ctx, iid)
        await self._refresh(ctx)
        if result["error"]:
            return rx.toast.error(f"查验失败：{result['error']}")
        return rx.toast.success(f"查验结果：{result['status']}")


S = InvoicesState


def _status(value: rx.Var) -> rx.Component:
    return rx.badge(value, color_scheme=rx.match(value, *STATUS_COLORS.items(), "gray"), variant="soft")


def _attach_panel() -> rx.Component:
    return rx.card(rx.vstack(
        rx.text("关联发票", weight="bold"),
        rx.select.root(rx.select.trigger(placeholder="选择付款或手工支出", width="100%", id="invoice-target"),
                       rx.select.content(
            rx.foreach(S.targets, lambda t: rx.select.item(t["label"], value=t["value"]))),
            value=S.target, on_change=S.choose_target),
        rx.form(rx.hstack(*[rx.input(name=key, placeholder=label, size="1") for key, label, _ in MANUAL],
                          rx.button("暂存 PDF 信息", size="1", type="submit", variant="soft"), wrap="wrap"),
                on_submit=S.set_manual, id="invoice-manual"),
        rx.text(S.manual_note, size="1", color_scheme="gray"),
        rx.upload(rx.text("选择发票文件（OFD、XML、XBRL；PDF 须先填写发票信息）", size="2"), id=UPLOAD_ID,
                  max_files=1, border="1px dashed var(--gray-7)", padding="1em"),
        rx.button("上传并关联", on_click=S.upload(rx.upload_files(upload_id=UPLOAD_ID)), id="invoice-upload-btn"),
        rx.foreach(S.target_invoices, lambda i: rx.text(i["key"], " ", i["total"], " ", i["seller_name"], size="2")),
        spacing="2", width="100%"), width="100%")


@app_page(routes.INVOICES, "电子发票", "execution.view", menu="receipt", on_load=InvoicesState.load)
def invoices_page() -> rx.Component:
    return rx.vstack(
        rx.cond(S.targets.length() > 0, _attach_panel()),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("发票", "种类", "开票日期", "销售方", "价税合计", "单位", "关联", "查验", "")])),
            rx.table.body(rx.foreach(S.invoices, lambda i: rx.table.row(
                rx.table.cell(i["key"]), rx.table.cell(i["kind"]), rx.table.cell(i["date"]),
                rx.table.cell(i["seller_name"]), rx.table.cell(i["total"]), rx.table.cell(i["org_name"]),
                rx.table.cell(i["target"]),
                rx.table.cell(rx.hstack(_status(i["verify_status"]), rx.text(i["verified_at"], size="1"))),
                rx.table.cell(rx.button("查验", size="1", on_click=S.verify(i["id"]), id="verify-" + i["id"])),
            ))),
            variant="surface", size="1", width="100%", id="invoice-list"),
        spacing="4", width="100%",
    )
