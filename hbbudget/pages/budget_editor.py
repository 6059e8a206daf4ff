"""预算编辑: one budget's lines, one server page at a time, edited in place.

The state holds one page of display rows (text) and, in backend vars, the same page as the service
returned it (ids and row versions: a client can only name a line of the page it was shown, and the
expected version always comes from the server). Every save returns the fresh row, totals, subtotals and
rule results, so the grid, the subtotals and the rule panel change in the same event.
"""

import asyncio
import hashlib

import reflex as rx

from components import tokens
from components.table import pager
from components.widgets import edit_input, labelled, money_cell, money_text, rule_panel, status_badge, unit_switch
from hbbudget import money, routes
from hbbudget.services import budgeting, review, templates
from hbbudget.services.errors import Conflict, ValidationError
from hbbudget.services.permissions import UserContext
from state import args
from state.guard import guarded

from . import display
from .base import app_page

PAGE_SIZE = 50
MAX_IMPORT_BYTES = 10 * 1024 * 1024
IMPORT_ID = "budget-import"
MONTH_LABELS = [f"{i}月" for i in range(1, 13)]
CODE_KINDS = {"econ": "dept", "func": "function"}  # grid column -> code_options kind
DIALOG_ACTIONS = {"submit": "上报说明（存在警告时必填）", "approve": "审核意见", "return": "退回原因（必填）"}


def _path_id(path: str) -> int:
    """/budgets/12 → 12 (the dynamic route segment)."""
    return args.as_id(str(path or "").rstrip("/").rsplit("/", 1)[-1], "预算编号")


def _problem_rows(problems: list[dict]) -> list[dict[str, str]]:
    return [{"row": str(p.get("row", "")), "column": str(p.get("column", "")), "reason": str(p.get("reason", ""))}
            for p in problems[:200]]


class BudgetEditorState(rx.State):
    bid: int = 0
    header: dict[str, str] = {}
    editable: bool = False
    actions: list[dict[str, str]] = []
    unit: str = "yuan"
    rows: list[dict[str, str]] = []
    offset: int = 0
    count: int = 0
    total_text: str = ""
    source_text: str = ""
    econ_subtotals: list[dict[str, str]] = []
    func_subtotals: list[dict[str, str]] = []
    rules: list[dict[str, str]] = []
    rule_summary: str = ""
    has_errors: bool = False
    has_warnings: bool = False
    filter_text: str = ""
    sources: list[str] = list(budgeting.SOURCES)
    new_form_key: int = 0
    project_choices: list[dict[str, str]] = []
    # conflict notice
    conflict: str = ""
    conflict_values: str = ""
    # monthly plan dialog
    plan_open: bool = False
    plan_line: str = ""
    plan_title: str = ""
    plan_key: str = ""
    plan_months: list[dict[str, str]] = []
    # code picker
    picker_open: bool = False
    picker_kind: str = "econ"
    picker_title: str = ""
    picker_options: list[dict[str, str]] = []
    new_econ: str = ""
    new_func: str = ""
    # delete confirmation
    delete_id: str = ""
    delete_label: str = ""
    # Excel import
    import_open: bool = False
    import_summary: str = ""
    import_ok: bool = False
    import_rows: list[dict[str, str]] = []
    import_problems: list[dict[str, str]] = []
    # submit / approve / return
    action: str = ""
    action_label: str = ""
    action_hint: str = ""
    # templates (one line per economic 款 of a category template)
    template_open: bool = False
    template_choices: list[dict[str, str]] = []
    can_adjust: bool = False
    # versions
    versions: list[dict[str, str]] = []
    diff_summary: str = ""
    diff_rows: list[dict[str, str]] = []

    _raw: dict[int, dict] = {}
    _order: list[int] = []
    _totals: dict = {}
    _subtotals: dict = {}
    _rule_results: list[dict] = []
    _filters: dict = {}
    _picker_target: int = 0
    _import_sha: str = ""
    _diff: dict = {}
    _diff_names: tuple = ("", "")
    _template_ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.count)

    # ---- helpers (not callable by clients) ----

    def _format(self) -> None:
        flags = display.flags(self._rule_results)
        self.rows = [display.line(self._raw[i], self.unit, flags.get(i, "")) for i in self._order if i in self._raw]
        totals = self._totals or {}
        self.total_text = display.amount(totals.get("total", 0), self.unit)
        self.source_text = display.by_source(totals, self.unit)
        sub = self._subtotals or {}
        self.econ_subtotals = display.subtotals(sub.get("economic") or [], self.unit)
        self.func_subtotals = display.subtotals(sub.get("function") or [], self.unit)
        self.rules = display.rules(self._rule_results)
        self.rule_summary = display.rule_summary(self._rule_results)
        self.has_errors = any(not r.get("ok") and r.get("severity") == "error" for r in self._rule_results)
        self.has_warnings = any(not r.get("ok") and r.get("severity") != "error" for r in self._rule_results)
        if self._diff:
            self._format_diff()

    def _set_header(self, header: dict) -> None:
        self.header = {**display.budget(header, self.unit),
                       "title": f"{header.get('org_name', '')} {header.get('fiscal_year', '')} 年度预算（{header.get('round', '')}）"}
        self.editable = bool(header.get("editable"))
        self.actions = [{"action": str(a.get("action", "")), "label": str(a.get("label", ""))}
                        for a in header.get("actions") or [] if a.get("action") in DIALOG_ACTIONS]

    async def _fetch(self, ctx: UserContext, with_rules: bool = True) -> None:
        f = self._filters or {}
        page = await asyncio.to_thread(
            budgeting.fetch_lines, ctx, self.bid, offset=self.offset, limit=PAGE_SIZE, econ=f.get("econ", ""),
            func_code=f.get("func", ""), project_id=f.get("project_id", 0), search=f.get("search", ""),
            with_rules=with_rules)
        self._raw = {r["id"]: r for r in page["rows"]}
        self._order = [r["id"] for r in page["rows"]]
        self.count = int(page.get("count", 0))
        self._totals, self._subtotals = page.get("totals") or {}, page.get("subtotals") or {}
        if with_rules:
            self._rule_results = page.get("rules") or []
        self._format()

    async def _reload_header(self, ctx: UserContext) -> None:
        self._set_header(await asyncio.to_thread(budgeting.get_budget, ctx, self.bid))

    def _apply(self, result: dict) -> None:
        """An update result: the row in place, totals, subtotals and rules from the same call."""
        row = result.get("row") or {}
        if row.get("id") in self._raw:
            self._raw = {**self._raw, row["id"]: row}
        self._totals = result.get("totals") or self._totals
        self._subtotals = result.get("subtotals") or self._subtotals
        if "rules" in result:
            self._rule_results = result["rules"] or []
        self.conflict = ""
        self._format()

    def _line_id(self, line_id: object) -> int:
        lid = args.as_id(line_id, "明细编号")
        if lid not in self._raw:
            raise ValidationError("该行不在当前页，请刷新后重试")
        return lid

    def _need_editable(self) -> None:
        if not self.editable:
            raise ValidationError("当前状态不能修改预算")

    async def _update(self, ctx: UserContext, line_id: object, changes: dict):
        self._need_editable()
        lid = self._line_id(line_id)
        try:
            result = await asyncio.to_thread(budgeting.update_line, ctx, lid, changes,
                                             int(self._raw[lid].get("version", 0)))
        except Conflict as err:
            current = err.current or {}
            if current.get("id") == lid:
                self._raw = {**self._raw, lid: current}
            self.conflict = err.message
            if current:
                self.conflict_values = (
                    f"当前内容：{current.get('econ_code', '')} {current.get('econ_name', '')}；"
                    f"{current.get('func_code', '')} {current.get('func_name', '')}；{current.get('source', '')}；"
                    f"{display.amount(current.get('amount', 0), self.unit)}；备注：{current.get('note', '') or '无'}")
            self._format()
            return rx.toast.warning(err.message)
        self._apply(result)

    async def _after_structure_change(self, ctx: UserContext, result: dict) -> None:
        """Add / copy / delete: the page may shift; refetch it, keep the rules of the result."""
        self.conflict = ""
        if "rules" in result:
            self._rule_results = result["rules"] or []
        await self._fetch(ctx, with_rules="rules" not in result)

    # ---- loading and paging ----

    @rx.event
    @guarded("budget.view")
    async def load(self, ctx: UserContext):
        bid = _path_id(self.router.url.path)
        self.bid, self.offset, self._filters, self.filter_text = bid, 0, {}, ""
        self.conflict = self.conflict_values = ""
        self.versions, self.diff_rows, self.diff_summary, self._diff = [], [], "", {}
        self.import_open, self.plan_open, self.picker_open, self.action = False, False, False, ""
        self.new_econ = self.new_func = ""
        self.rows, self.header = [], {}
        await self._reload_header(ctx)
        await self._fetch(ctx)
        self.can_adjust = self.header.get("status") == "已批复" and ctx.has("budget.edit")
        if self.editable:
            options = await asyncio.to_thread(budgeting.project_options, ctx, bid, "", 100)
            self.project_choices = [{"id": "0", "label": "基本支出（不挂项目）"}] + [
                {"id": str(p["id"]), "label": f"{p['name']}（{p['code']}，{p.get('status', '')}）"} for p in options]
        else:
            self.project_choices = []

    @rx.event
    @guarded("budget.view")
    async def next_page(self, ctx: UserContext):
        if self.bid and self.offset + PAGE_SIZE < self.count:
            self.offset += PAGE_SIZE
            await self._fetch(ctx, with_rules=False)

    @rx.event
    @guarded("budget.view")
    async def prev_page(self, ctx: UserContext):
        if self.bid and self.offset > 0:
            self.offset = max(0, self.offset - PAGE_SIZE)
            await self._fetch(ctx, with_rules=False)

    @rx.event
    @guarded("budget.view")
    async def apply_filter(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        econ = args.field(data, "econ", "经济分类", 5)
        func = args.field(data, "func", "功能分类", 7)
        search = args.field(data, "search", "关键字", 64)
        for code, label in ((econ, "经济分类"), (func, "功能分类")):
            if code and not code.isdigit():
                raise ValidationError(f"{label}须为数字编码")
        self._filters = {"econ": econ, "func": func, "search": search, "project_id": 0}
        self.filter_text = "、".join(x for x in (econ and f"经济 {econ}", func and f"功能 {func}",
                                                 search and f"“{search}”") if x)
        self.offset = 0
        await self._fetch(ctx, with_rules=False)

    @rx.event
    @guarded("budget.view")
    async def filter_class(self, ctx: UserContext, kind: str, code: str):
        """Click on a subtotal: show that 类 only."""
        kind = args.as_choice(kind, ("econ", "func"), "分类")
        code = args.as_text(code, "编码", 7)
        if code and not code.isdigit():
            raise ValidationError("编码无效")
        self._filters = {"econ": code if kind == "econ" else "", "func": code if kind == "func" else "",
                         "search": "", "project_id": 0}
        self.filter_text = f"{'经济' if kind == 'econ' else '功能'}分类 {code}"
        self.offset = 0
        await self._fetch(ctx, with_rules=False)

    @rx.event
    @guarded("budget.view")
    async def clear_filter(self, ctx: UserContext):
        self._filters, self.filter_text, self.offset = {}, "", 0
        await self._fetch(ctx, with_rules=False)

    @rx.event
    @guarded("budget.view")
    async def choose_unit(self, ctx: UserContext, unit: str | list[str]):
        self.unit = args.as_unit(unit)
        if self.header:
            self.header = {**self.header, "total": display.amount((self._totals or {}).get("total", 0), self.unit)}
        self._format()

    @rx.event
    @guarded("budget.view")
    async def recheck(self, ctx: UserContext):
        await self._fetch(ctx, with_rules=True)

    # ---- inline edits ----

    @rx.event
    @guarded("budget.edit")
    async def save_amount(self, ctx: UserContext, line_id: str, value: str):
        lid = self._line_id(line_id)
        text = args.as_text(value, "金额", 32, required=True)
        row = self._raw[lid]
        old = int(row.get("amount", 0))
        if money.parse_yuan(text) == old:
            return None
        return await self._update(ctx, lid, {"amount": text})

    @rx.event
    @guarded("budget.edit")
    async def save_note(self, ctx: UserContext, line_id: str, value: str):
        lid = self._line_id(line_id)
        note = args.as_text(value, "备注", 200)
        if note == self._raw[lid].get("note", ""):
            return None
        return await self._update(ctx, lid, {"note": note})

    @rx.event
    @guarded("budget.edit")
    async def save_source(self, ctx: UserContext, line_id: str, value: str):
        lid = self._line_id(line_id)
        source = args.as_choice(value, budgeting.SOURCES, "资金来源")
        if source == self._raw[lid].get("source"):
            return None
        return await self._update(ctx, lid, {"source": source})

    @rx.event
    @guarded("budget.edit")
    async def save_code(self, ctx: UserContext, line_id: str, column: str, value: str):
        lid = self._line_id(line_id)
        column = args.as_choice(column, CODE_KINDS, "科目类别")
        code = args.as_text(value, "科目编码", 7, required=True)
        if not code.isdigit():
            raise ValidationError("科目编码须为数字")
        if code == self._raw[lid].get(f"{column}_code"):
            return None
        return await self._update(ctx, lid, {f"{column}_code": code})

    @rx.event
    @guarded("budget.edit")
    async def save_project(self, ctx: UserContext, line_id: str, value: str):
        lid = self._line_id(line_id)
        pid = args.as_opt_id(value, "项目")
        if pid == int(self._raw[lid].get("project_id") or 0):
            return None
        return await self._update(ctx, lid, {"project_id": pid})

    @rx.event
    @guarded("budget.edit")
    async def dismiss_conflict(self, ctx: UserContext):
        self.conflict = self.conflict_values = ""

    # ---- monthly plan ----

    @rx.event
    @guarded("budget.view")
    async def open_plan(self, ctx: UserContext, line_id: str):
        lid = self._line_id(line_id)
        row = self._raw[lid]
        months = list(row.get("months") or [0] * 12)[:12]
        self.plan_line = str(lid)
        self.plan_key = f"{lid}-{row.get('version', '')}"
        self.plan_title = (f"用款计划：{row.get('econ_code', '')} {row.get('econ_name', '')}，"
                           f"全年 {display.amount(row.get('amount', 0), 'yuan')}")
        self.plan_months = [{"name": f"m{i + 1:02d}", "label": MONTH_LABELS[i], "value": money.yuan_text(m)}
                            for i, m in enumerate(months)]
        self.plan_open = True

    @rx.event
    @guarded("budget.view")
    async def close_plan(self, ctx: UserContext):
        self.plan_open = False

    @rx.event
    @guarded("budget.edit")
    async def save_plan(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        months = [args.as_text(data.get(f"m{i:02d}"), f"{i}月", 32, required=True) for i in range(1, 13)]
        result = await self._update(ctx, self.plan_line, {"months": months})
        if result is None:
            self.plan_open = False
        return result

    @rx.event
    @guarded("budget.edit")
    async def spread_plan(self, ctx: UserContext):
        result = await self._update(ctx, self.plan_line, {"spread": "even"})
        if result is None:
            self.plan_open = False
        return result

    # ---- code picker ----

    @rx.event
    @guarded("budget.view")
    async def open_picker(self, ctx: UserContext, column: str, line_id: str):
        """line_id "0": pick for the new-line form."""
        column = args.as_choice(column, CODE_KINDS, "科目类别")
        target = args.as_opt_id(line_id, "明细编号")
        if target:
            self._need_editable()
            self._line_id(target)
        self._picker_target, self.picker_kind = target, column
        self.picker_title = "选择经济分类科目" if column == "econ" else "选择功能分类科目"
        await self._search_codes(ctx, "")
        self.picker_open = True

    async def _search_codes(self, ctx: UserContext, text: str) -> None:
        year = int(self.header.get("fiscal_year") or 0)
        options = await asyncio.to_thread(budgeting.code_options, ctx, year, CODE_KINDS[self.picker_kind], text, 30)
        self.picker_options = [{"code": str(o["code"]), "name": str(o["name"])} for o in options]

    @rx.event
    @guarded("budget.view")
    async def search_picker(self, ctx: UserContext, form_data: dict):
        await self._search_codes(ctx, args.field(args.form(form_data), "q", "查询内容", 32))

    @rx.event
    @guarded("budget.view")
    async def close_picker(self, ctx: UserContext):
        self.picker_open = False

    @rx.event
    @guarded("budget.edit")
    async def pick_code(self, ctx: UserContext, code: str):
        code = args.as_text(code, "科目编码", 7, required=True)
        if not code.isdigit():
            raise ValidationError("科目编码须为数字")
        self.picker_open = False
        if not self._picker_target:
            if self.picker_kind == "econ":
                self.new_econ = code
            else:
                self.new_func = code
            return None
        return await self._update(ctx, self._picker_target, {f"{self.picker_kind}_code": code})

    # ---- add / copy / delete ----

    @rx.event
    @guarded("budget.edit")
    async def add_line(self, ctx: UserContext, form_data: dict):
        self._need_editable()
        data = args.form(form_data)
        line = {
            "project_id": args.as_opt_id(data.get("project_id") or 0, "项目"),
            "econ_code": args.field(data, "econ_code", "经济分类", 7, required=True),
            "func_code": args.field(data, "func_code", "功能分类", 7, required=True),
            "source": args.as_choice(data.get("source") or budgeting.SOURCES[0], budgeting.SOURCES, "资金来源"),
            "amount": args.field(data, "amount", "金额", 32, required=True),
            "note": args.field(data, "note", "备注", 200),
        }
        result = await asyncio.to_thread(budgeting.add_line, ctx, self.bid, line)
        self.new_econ = self.new_func = ""
        self.new_form_key += 1
        await self._after_structure_change(ctx, result)
        await self._reload_header(ctx)
        return rx.toast.success("已新增一行")

    @rx.event
    @guarded("budget.edit")
    async def copy_line(self, ctx: UserContext, line_id: str):
        self._need_editable()
        result = await asyncio.to_thread(budgeting.copy_line, ctx, self._line_id(line_id))
        await self._after_structure_change(ctx, result)
        return rx.toast.success("已复制")

    @rx.event
    @guarded("budget.edit")
    async def ask_delete(self, ctx: UserContext, line_id: str):
        self._need_editable()
        lid = self._line_id(line_id)
        row = self._raw[lid]
        self.delete_id = str(lid)
        self.delete_label = (f"{row.get('econ_code', '')} {row.get('econ_name', '')} / {row.get('func_code', '')} "
                             f"{row.get('source', '')} {display.amount(row.get('amount', 0), 'yuan')}")

    @rx.event
    @guarded("budget.edit")
    async def cancel_delete(self, ctx: UserContext):
        self.delete_id = ""

    @rx.event
    @guarded("budget.edit")
    async def confirm_delete(self, ctx: UserContext):
        self._need_editable()
        lid = self._line_id(self.delete_id)
        self.delete_id = ""
        try:
            result = await asyncio.to_thread(budgeting.delete_line, ctx, lid, int(self._raw[lid].get("version", 0)))
        except Conflict as err:
            self.conflict = err.message
            await self._fetch(ctx, with_rules=False)
            return rx.toast.warning(err.message)
        await self._after_structure_change(ctx, result)
        await self._reload_header(ctx)
        return rx.toast.success("已删除")

    # ---- Excel ----

    @rx.event
    @guarded("budget.view")
    async def export_excel(self, ctx: UserContext):
        if not self.bid:
            raise ValidationError("请先打开预算")
        from hbbudget.services import budget_excel

        filename, data = await asyncio.to_thread(budget_excel.export_budget, ctx, self.bid)
        return rx.download(data=data, filename=filename)

    @rx.event
    @guarded("budget.edit")
    async def open_import(self, ctx: UserContext):
        self._need_editable()
        self.import_open, self.import_summary, self.import_ok = True, "", False
        self.import_rows, self.import_problems, self._import_sha = [], [], ""

    @rx.event
    @guarded("budget.edit")
    async def close_import(self, ctx: UserContext):
        self.import_open = False
        return rx.clear_selected_files(IMPORT_ID)

    @staticmethod
    def _read_upload(files: list) -> tuple[str, bytes]:
        if not isinstance(files, list) or len(files) != 1:
            raise ValidationError("请选择一个 Excel 文件（.xlsx）")
        upload = files[0]
        name = str(getattr(upload, "name", "") or getattr(upload, "filename", "") or "")[:200]
        if not name.lower().endswith(".xlsx"):
            raise ValidationError("只能导入 .xlsx 文件")
        size = getattr(upload, "size", None)
        if size is not None and size > MAX_IMPORT_BYTES:
            raise ValidationError("文件超过 10 MB，不能导入")
        data = upload.file.read(MAX_IMPORT_BYTES + 1)
        if len(data) > MAX_IMPORT_BYTES:
            raise ValidationError("文件超过 10 MB，不能导入")
        return name, data

    @rx.event
    @guarded("budget.edit")
    async def preview_import(self, ctx: UserContext, files: list[rx.UploadFile]):
        self._need_editable()
        from hbbudget.services import budget_excel

        name, data = await asyncio.to_thread(self._read_upload, files)
        result = await asyncio.to_thread(budget_excel.import_preview, ctx, self.bid, name, data)
        self._import_sha = hashlib.sha256(data).hexdigest() if result.get("ok") else ""
        self.import_ok = bool(result.get("ok"))
        self.import_problems = _problem_rows(result.get("problems") or [])
        self.import_rows = [display.line(r, self.unit) for r in (result.get("rows") or [])[:50]]
        self.import_summary = (f"共 {result.get('count', 0)} 行，合计 {display.amount(result.get('total', 0), self.unit)}"
                               + ("，可以导入" if self.import_ok else f"，发现 {len(self.import_problems)} 处问题，不能导入"))

    @rx.event
    @guarded("budget.edit")
    async def commit_import(self, ctx: UserContext, files: list[rx.UploadFile]):
        self._need_editable()
        name, data = await asyncio.to_thread(self._read_upload, files)
        if not self._import_sha or hashlib.sha256(data).hexdigest() != self._import_sha:
            raise ValidationError("请先预览并确认同一个文件")
        from hbbudget.services import budget_excel

        try:
            await asyncio.to_thread(budget_excel.import_commit, ctx, self.bid, name, data)
        except ValidationError as err:  # budget_excel.ImportRefused carries .problems
            self.import_ok, self._import_sha = False, ""
            self.import_problems = _problem_rows(getattr(err, "problems", None) or [])
            return rx.toast.error(err.message)
        self.import_open, self._import_sha = False, ""
        self.offset, self._filters, self.filter_text = 0, {}, ""
        await self._reload_header(ctx)
        await self._fetch(ctx)
        return [rx.clear_selected_files(IMPORT_ID), rx.toast.success("导入完成：已替换全部明细")]

    # ---- submit / approve / return ----

    @rx.event
    @guarded("budget.view")
    async def open_action(self, ctx: UserContext, action: str):
        action = args.as_choice(action, [a["action"] for a in self.actions], "操作")
        self.action = action
        self.action_label = next(a["label"] for a in self.actions if a["action"] == action)
        self.action_hint = DIALOG_ACTIONS[action]

    @rx.event
    @guarded("budget.view")
    async def close_action(self, ctx: UserContext):
        self.action = ""

    @rx.event
    @guarded("budget.view")
    async def do_action(self, ctx: UserContext, form_data: dict):
        action = args.as_choice(self.action, DIALOG_ACTIONS, "操作")
        text = args.field(args.form(form_data), "comment", "说明", 500, required=action == "return")
        if action == "submit":
            header = await asyncio.to_thread(review.submit, ctx, self.bid, text)
        elif action == "approve":
            header = await asyncio.to_thread(review.approve, ctx, self.bid, text)
        else:
            header = await asyncio.to_thread(review.return_budget, ctx, self.bid, text)
        label = self.action_label
        self.action = ""
        self._set_header(header)
        await self._fetch(ctx)
        return rx.toast.success(f"已{label}")

    # ---- category templates and adjustments ----

    @rx.event
    @guarded("budget.edit")
    async def open_template(self, ctx: UserContext):
        self._need_editable()
        rows = await asyncio.to_thread(templates.list_templates, ctx)
        self._template_ids = [t["id"] for t in rows]
        self.template_choices = [{"id": str(t["id"]), "label": f"{t['name']}（{t.get('org_name', '')}）"} for t in rows]
        self.template_open = True

    @rx.event
    @guarded("budget.edit")
    async def close_template(self, ctx: UserContext):
        self.template_open = False

    @rx.event
    @guarded("budget.edit")
    async def apply_template(self, ctx: UserContext, form_data: dict):
        self._need_editable()
        data = args.form(form_data)
        tid = args.as_id(data.get("template_id"), "模板")
        if tid not in self._template_ids:
            raise ValidationError("请选择模板")
        result = await asyncio.to_thread(
            templates.apply_template, ctx, self.bid, tid,
            project_id=args.as_opt_id(data.get("project_id") or 0, "项目"),
            func_code=args.field(data, "func_code", "功能分类", 7, required=True),
            source=args.as_choice(data.get("source") or budgeting.SOURCES[0], budgeting.SOURCES, "资金来源"),
            amount=args.field(data, "amount", "金额", 32, required=True))
        self.template_open = False
        await self._after_structure_change(ctx, result)
        await self._reload_header(ctx)
        return rx.toast.success(f"已按模板新增 {len(result.get('added_ids') or [])} 行")

    @rx.event
    @guarded("budget.edit")
    async def start_adjustment(self, ctx: UserContext, kind: str):
        kind = args.as_choice(kind, ("调整", "调剂"), "调整类型")
        header = await asyncio.to_thread(budgeting.create_adjustment, ctx, self.bid, kind)
        return [rx.toast.success(f"已发起{kind}"), rx.redirect(routes.budget_editor(header["id"]))]

    # ---- versions ----

    @rx.event
    @guarded("budget.view")
    async def load_versions(self, ctx: UserContext):
        rows = await asyncio.to_thread(budgeting.list_versions, ctx, self.bid)
        self.versions = [{"version_no": str(v["version_no"]), "round": str(v.get("round", "")),
                          "event": str(v.get("event", "")), "created_at": str(v.get("created_at", "")),
                          "created_by": str(v.get("created_by", "")), "total": display.amount(v.get("total", 0), self.unit),
                          "reason": str(v.get("reason", ""))} for v in rows]

    @rx.event
    @guarded("budget.view")
    async def compare_versions(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        known = {v["version_no"] for v in self.versions}
        a = args.as_choice(str(data.get("from_version") or ""), known, "比较的版本")
        b = str(data.get("to_version") or "0")
        if b != "0":
            b = args.as_choice(b, known, "比较的版本")
        self._diff = await asyncio.to_thread(budgeting.diff, ctx, self.bid, int(a), int(b))
        self._diff_names = (f"第 {a} 版", "当前" if b == "0" else f"第 {b} 版")
        self._format_diff()

    def _format_diff(self) -> None:
        d, unit = self._diff, self.unit
        rows = []
        for kind, key in (("新增", "added"), ("删除", "removed")):
            for line in d.get(key) or []:
                rows.append({"change": kind, **display.diff_line(line, unit), "before": "",
                             "fields": ""})
        for ch in d.get("changed") or []:
            after, before = ch.get("after") or {}, ch.get("before") or {}
            rows.append({"change": "修改", **display.diff_line(after, unit),
                         "before": display.amount(before.get("amount", 0), unit),
                         "fields": "、".join(str(f) for f in ch.get("fields") or [])})
        self.diff_rows = rows[:300]
        self.diff_summary = (f"{self._diff_names[0]} 合计 {display.amount(d.get('from_total', 0), unit)} → "
                             f"{self._diff_names[1]} 合计 {display.amount(d.get('to_total', 0), unit)}；"
                             f"新增 {len(d.get('added') or [])} 行，删除 {len(d.get('removed') or [])} 行，"
                             f"修改 {len(d.get('changed') or [])} 行")


# ------------------------------------------------------------------ layout

S = BudgetEditorState


def _header_bar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.link("← 预算列表", href=routes.BUDGETS, size="2"),
            rx.heading(S.header["title"], size="4", id="budget-title"),
            status_badge(S.header["status"], id="budget-status"),
            rx.spacer(),
            unit_switch(S.unit, S.choose_unit),
            align="center", spacing="3", width="100%",
        ),
        rx.hstack(
            labelled("合计", money_text(S.total_text, id="budget-total", weight="bold", size="4")),
            labelled("控制数", rx.text(S.header["control"], style=tokens.NUM)),
            labelled("明细行数", rx.text(S.count)),
            labelled("当前审核", rx.text(rx.cond(S.header["step_org_name"] != "", S.header["step_org_name"], "—"))),
            labelled("已上报版本", rx.text(S.header["version_no"])),
            rx.cond(S.source_text != "", labelled("按资金来源", rx.text(S.source_text, size="2"))),
            spacing="6", wrap="wrap", align="end",
        ),
        rx.cond(S.header["last_comment"] != "",
                rx.callout(S.header["last_comment"], icon="message-square", color_scheme="orange",
                           id="budget-comment", size="1")),
        rx.hstack(
            rx.foreach(S.actions, lambda a: rx.button(a["label"], on_click=S.open_action(a["action"]),
                                                      id="action-" + a["action"])),
            rx.button("导出 Excel", variant="soft", on_click=S.export_excel, id="export-excel"),
            rx.cond(S.editable, rx.button("导入 Excel", variant="soft", on_click=S.open_import, id="open-import")),
            rx.cond(S.editable, rx.button("按模板添加", variant="soft", on_click=S.open_template, id="open-template")),
            rx.cond(S.can_adjust, rx.button("发起调整", variant="soft", on_click=S.start_adjustment("调整"))),
            rx.cond(S.can_adjust, rx.button("发起调剂", variant="soft", on_click=S.start_adjustment("调剂"))),
            rx.button("重新校验", variant="soft", color_scheme="gray", on_click=S.recheck, id="recheck"),
            style=tokens.TOOLBAR,
        ),
        spacing="3", width="100%",
    )


def _code_cell(row: rx.Var, column: str) -> rx.Component:
    code, name = row[f"{column}_code"], row[f"{column}_name"]
    return rx.table.cell(
        rx.cond(
            S.editable,
            rx.vstack(
                rx.hstack(
                    edit_input(row["id"] + ":" + code, code, lambda v: S.save_code(row["id"], column, v), width="6em",
                               max_length=7, element_id=f"{column}-" + row["id"]),
                    rx.icon_button(rx.icon("search", size=14), size="1", variant="ghost",
                                   on_click=S.open_picker(column, row["id"]), title="查找科目"),
                    spacing="1", align="center",
                ),
                rx.text(name, size="1", color_scheme="gray"),
                spacing="0",
            ),
            rx.vstack(rx.text(code), rx.text(name, size="1", color_scheme="gray"), spacing="0"),
        ),
    )


def _grid_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.cond(
            S.editable,
            rx.select.root(
                rx.select.trigger(placeholder=row["project"], width="14em"),
                rx.select.content(rx.foreach(S.project_choices,
                                             lambda p: rx.select.item(p["label"], value=p["id"]))),
                value=row["project_id"], on_change=lambda v: S.save_project(row["id"], v), size="1",
            ),
            rx.text(row["project"], size="2"),
        )),
        _code_cell(row, "econ"),
        _code_cell(row, "func"),
        rx.table.cell(rx.cond(
            S.editable,
            rx.select(S.sources, value=row["source"], on_change=lambda v: S.save_source(row["id"], v), size="1"),
            rx.text(row["source"]),
        )),
        rx.table.cell(rx.cond(
            S.editable,
            edit_input(row["id"] + ":" + row["amount_yuan"], row["amount_yuan"], lambda v: S.save_amount(row["id"], v), amount=True,
                       max_length=32, element_id="amount-" + row["id"]),
            money_text(row["amount"]),
        ), rx.cond(S.editable, money_text(row["amount"], size="1", color_scheme="gray"))),
        rx.table.cell(rx.button(row["plan"], size="1", variant="soft",
                                color_scheme=rx.cond(row["plan_ok"] == "1", "gray", "red"),
                                on_click=S.open_plan(row["id"]), id="plan-" + row["id"])),
        rx.table.cell(rx.cond(
            S.editable,
            edit_input(row["id"] + ":" + row["note"], row["note"], lambda v: S.save_note(row["id"], v), width="10em",
                       element_id="note-" + row["id"]),
            rx.text(row["note"], size="2"),
        )),
        rx.table.cell(rx.text(row["updated"], size="1", color_scheme="gray")),
        rx.table.cell(rx.cond(S.editable, rx.hstack(
            rx.icon_button(rx.icon("copy", size=14), size="1", variant="ghost", title="复制",
                           on_click=S.copy_line(row["id"])),
            rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red", title="删除",
                           on_click=S.ask_delete(row["id"]), id="delete-" + row["id"]),
            spacing="1",
        ))),
        style=rx.match(row["flag"], ("error", tokens.ROW_ERROR), ("warning", tokens.ROW_WARNING), {}),
        id="line-" + row["id"],
    )


def _grid() -> rx.Component:
    headers = ["项目", "经济分类", "功能分类", "资金来源", "金额（元）", "用款计划", "备注", "最后修改", ""]
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(S.rows, _grid_row)),
            variant="surface", size="1", width="100%", id="budget-grid",
        ),
        style=tokens.GRID_WRAP,
    )


def _new_line_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            labelled("项目", rx.select.root(
                rx.select.trigger(placeholder="基本支出", width="14em", id="new-line-project"),
                rx.select.content(rx.foreach(S.project_choices, lambda p: rx.select.item(p["label"], value=p["id"]))),
                name="project_id", default_value="0", size="2",
            )),
            labelled("经济分类", rx.hstack(
                rx.input(name="econ_code", key=S.new_econ, default_value=S.new_econ, placeholder="如 30201",
                         max_length=7, width="7em", id="new-econ"),
                rx.icon_button(rx.icon("search", size=14), variant="soft", type="button",
                               on_click=S.open_picker("econ", "0"), id="pick-new-econ"),
                spacing="1")),
            labelled("功能分类", rx.hstack(
                rx.input(name="func_code", key=S.new_func, default_value=S.new_func, placeholder="如 2050305",
                         max_length=7, width="8em", id="new-func"),
                rx.icon_button(rx.icon("search", size=14), variant="soft", type="button",
                               on_click=S.open_picker("func", "0"), id="pick-new-func"),
                spacing="1")),
            labelled("资金来源", rx.select(S.sources, name="source", default_value="财政拨款", id="new-source")),
            labelled("金额（元）", rx.input(name="amount", placeholder="0.00", max_length=32, width="10em",
                                           id="new-amount", style=tokens.AMOUNT_INPUT)),
            labelled("备注", rx.input(name="note", max_length=200, width="12em", id="new-note")),
            rx.button("新增一行", type="submit", id="add-line"),
            align="end", style=tokens.TOOLBAR,
        ),
        on_submit=S.add_line, reset_on_submit=False, id="new-line-form", key=S.new_form_key,
    )


def _filters() -> rx.Component:
    return rx.hstack(
        rx.form(
            rx.hstack(
                rx.input(name="econ", placeholder="经济分类编码前缀", max_length=5, width="11em"),
                rx.input(name="func", placeholder="功能分类编码前缀", max_length=7, width="11em"),
                rx.input(name="search", placeholder="项目、备注关键字", max_length=64, width="12em"),
                rx.button("筛选", type="submit", variant="soft"),
                spacing="2",
            ),
            on_submit=S.apply_filter,
        ),
        rx.cond(S.filter_text != "", rx.hstack(
            rx.badge("筛选：", S.filter_text, variant="outline"),
            rx.button("清除", size="1", variant="ghost", on_click=S.clear_filter), align="center")),
        style=tokens.TOOLBAR,
    )


def _subtotal_table(title: str, rows: rx.Var, kind: str, element_id: str) -> rx.Component:
    return rx.box(
        rx.text(title, weight="bold", size="2"),
        rx.table.root(
            rx.table.body(rx.foreach(rows, lambda r: rx.table.row(
                rx.table.cell(rx.link(r["code"], on_click=S.filter_class(kind, r["code"]), cursor="pointer")),
                rx.table.cell(r["name"]),
                money_cell(r["total"]),
            ))),
            size="1", width="100%", id=element_id,
        ),
        style=tokens.PANEL, flex="1", min_width="18em",
    )


def _conflict_notice() -> rx.Component:
    return rx.cond(S.conflict != "", rx.callout.root(
        rx.callout.icon(rx.icon("triangle-alert")),
        rx.callout.text(S.conflict, weight="bold", id="conflict-message"),
        rx.callout.text(S.conflict_values, size="2"),
        rx.button("知道了", size="1", variant="soft", on_click=S.dismiss_conflict),
        color_scheme="orange", width="100%",
    ))


def _plan_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("用款计划"),
        rx.text(S.plan_title, size="2"),
        rx.form(
            rx.vstack(
                rx.grid(rx.foreach(S.plan_months, lambda m: labelled(m["label"], rx.input(
                    name=m["name"], default_value=m["value"], key=S.plan_key + m["name"], max_length=32,
                    style=tokens.AMOUNT_INPUT, read_only=~S.editable))), columns="4", spacing="2"),
                rx.hstack(
                    rx.cond(S.editable, rx.button("保存计划", type="submit", id="save-plan")),
                    rx.cond(S.editable, rx.button("按金额平均分配", type="button", variant="soft",
                                                  on_click=S.spread_plan, id="spread-plan")),
                    rx.button("关闭", type="button", variant="soft", color_scheme="gray", on_click=S.close_plan),
                    spacing="2",
                ),
                spacing="3",
            ),
            on_submit=S.save_plan, reset_on_submit=False,
        ),
        max_width="44em",
    ), open=S.plan_open)


def _picker_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(S.picker_title),
        rx.form(rx.hstack(rx.input(name="q", placeholder="编码或名称，如 302 或 办公", max_length=32, id="picker-q",
                                   width="20em"),
                          rx.button("查找", type="submit"), spacing="2"),
                on_submit=S.search_picker, reset_on_submit=False),
        rx.scroll_area(rx.vstack(rx.foreach(S.picker_options, lambda o: rx.button(
            rx.text(o["code"], weight="bold", style=tokens.NUM), rx.text(o["name"]),
            variant="ghost", width="100%", style={"justify_content": "flex-start"}, on_click=S.pick_code(o["code"]),
            id="pick-" + o["code"])), spacing="1", width="100%"), max_height="22em", margin_y="0.6em"),
        rx.cond(S.picker_options.length() == 0, rx.text("没有匹配的末级科目", color_scheme="gray")),
        rx.button("关闭", variant="soft", color_scheme="gray", on_click=S.close_picker),
        max_width="34em",
    ), open=S.picker_open)


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("删除明细"),
        rx.alert_dialog.description(rx.text("确定删除：", S.delete_label, "？")),
        rx.hstack(
            rx.button("取消", variant="soft", color_scheme="gray", on_click=S.cancel_delete),
            rx.button("删除", color_scheme="red", on_click=S.confirm_delete, id="confirm-delete"),
            spacing="2", justify="end", margin_top="1em",
        ),
    ), open=S.delete_id != "")


def _action_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(S.action_label),
        rx.cond((S.action == "submit") & S.has_warnings,
                rx.callout("本预算存在警告，上报时须填写说明。", color_scheme="amber", size="1")),
        rx.cond((S.action == "submit") & S.has_errors,
                rx.callout("本预算存在错误，须先改正才能上报。", color_scheme="red", size="1")),
        rx.form(
            rx.vstack(
                rx.text(S.action_hint, size="2"),
                rx.text_area(name="comment", max_length=500, rows="4", width="100%", id="action-comment"),
                rx.hstack(
                    rx.button("确定", type="submit", id="action-confirm"),
                    rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=S.close_action),
                    spacing="2",
                ),
                spacing="3",
            ),
            on_submit=S.do_action, reset_on_submit=False,
        ),
    ), open=S.action != "")


def _import_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("导入 Excel"),
        rx.text("导入会替换本预算的全部明细；先预览，没有问题才能确认导入（全部成功或全部不导入）。文件不超过 10 MB。",
                size="2"),
        rx.upload(
            rx.vstack(rx.icon("file-spreadsheet"), rx.text("点击选择或拖入 .xlsx 文件", size="2"), align="center"),
            id=IMPORT_ID, multiple=False, max_files=1, max_size=MAX_IMPORT_BYTES,
            accept={"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": [".xlsx"]},
            border=f"1px dashed {rx.color('gray', 7)}", padding="1em", margin_y="0.6em",
        ),
        rx.text(rx.selected_files(IMPORT_ID).join("、"), size="2"),
        rx.hstack(
            rx.button("预览", variant="soft", on_click=S.preview_import(rx.upload_files(upload_id=IMPORT_ID)),
                      id="import-preview"),
            rx.button("确认导入", disabled=~S.import_ok, on_click=S.commit_import(rx.upload_files(upload_id=IMPORT_ID)),
                      id="import-commit"),
            rx.button("关闭", variant="soft", color_scheme="gray", on_click=S.close_import),
            spacing="2",
        ),
        rx.cond(S.import_summary != "", rx.text(S.import_summary, weight="bold", margin_top="0.6em",
                                                id="import-summary")),
        rx.cond(S.import_problems.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("行"), rx.table.column_header_cell("列"),
                                         rx.table.column_header_cell("问题"))),
            rx.table.body(rx.foreach(S.import_problems, lambda p: rx.table.row(
                rx.table.cell(p["row"]), rx.table.cell(p["column"]), rx.table.cell(p["reason"])))),
            size="1", id="import-problems")),
        rx.cond(S.import_rows.length() > 0, rx.scroll_area(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("项目", "经济分类", "功能分类", "资金来源", "金额")])),
            rx.table.body(rx.foreach(S.import_rows, lambda r: rx.table.row(
                rx.table.cell(r["project"]), rx.table.cell(r["econ_code"]), rx.table.cell(r["func_code"]),
                rx.table.cell(r["source"]), money_cell(r["amount"])))),
            size="1"), max_height="18em")),
        max_width="52em",
    ), open=S.import_open)


def _template_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("按分类模板添加"),
        rx.text("按模板比例把金额拆分到各经济分类科目，每个科目新增一行，拆分合计与金额一致。", size="2"),
        rx.form(rx.vstack(
            labelled("模板", rx.select.root(
                rx.select.trigger(placeholder="选择模板", width="20em"),
                rx.select.content(rx.foreach(S.template_choices, lambda t: rx.select.item(t["label"], value=t["id"]))),
                name="template_id")),
            labelled("项目", rx.select.root(
                rx.select.trigger(placeholder="基本支出", width="20em"),
                rx.select.content(rx.foreach(S.project_choices, lambda p: rx.select.item(p["label"], value=p["id"]))),
                name="project_id", default_value="0")),
            rx.hstack(
                labelled("功能分类", rx.input(name="func_code", max_length=7, width="8em", placeholder="如 2050205")),
                labelled("资金来源", rx.select(S.sources, name="source", default_value="财政拨款")),
                labelled("金额（元）", rx.input(name="amount", max_length=32, width="10em", style=tokens.AMOUNT_INPUT)),
                style=tokens.TOOLBAR),
            rx.hstack(rx.button("添加", type="submit"),
                      rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=S.close_template),
                      spacing="2"),
            spacing="3"), on_submit=S.apply_template, reset_on_submit=False),
        max_width="40em",
    ), open=S.template_open)


def _versions_tab() -> rx.Component:
    return rx.vstack(
        rx.button("刷新版本列表", variant="soft", size="1", on_click=S.load_versions),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("版本", "阶段", "事件", "时间", "操作人", "合计", "说明")])),
            rx.table.body(rx.foreach(S.versions, lambda v: rx.table.row(
                rx.table.cell(v["version_no"]), rx.table.cell(v["round"]), rx.table.cell(v["event"]),
                rx.table.cell(v["created_at"]), rx.table.cell(v["created_by"]), money_cell(v["total"]),
                rx.table.cell(v["reason"])))),
            size="1", width="100%", id="versions-table",
        ),
        rx.form(
            rx.hstack(
                rx.text("比较"),
                rx.select.root(rx.select.trigger(placeholder="选择版本"), rx.select.content(rx.foreach(
                    S.versions, lambda v: rx.select.item("第 " + v["version_no"] + " 版", value=v["version_no"]))),
                    name="from_version"),
                rx.text("与"),
                rx.select.root(rx.select.trigger(placeholder="当前明细"), rx.select.content(
                    rx.select.item("当前明细", value="0"),
                    rx.foreach(S.versions, lambda v: rx.select.item("第 " + v["version_no"] + " 版",
                                                                    value=v["version_no"]))),
                    name="to_version", default_value="0"),
                rx.button("比较", type="submit", variant="soft"),
                align="center", spacing="2",
            ),
            on_submit=S.compare_versions, reset_on_submit=False,
        ),
        rx.cond(S.diff_summary != "", rx.text(S.diff_summary, weight="bold", id="diff-summary")),
        rx.cond(S.diff_rows.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("变化", "项目", "经济分类", "功能分类", "资金来源", "金额", "原金额", "变化字段")])),
            rx.table.body(rx.foreach(S.diff_rows, lambda d: rx.table.row(
                rx.table.cell(rx.badge(d["change"])), rx.table.cell(d["project_code"]), rx.table.cell(d["econ_code"]),
                rx.table.cell(d["func_code"]), rx.table.cell(d["source"]), money_cell(d["amount"]),
                money_cell(d["before"]), rx.table.cell(d["fields"])))),
            size="1", width="100%", id="diff-table")),
        spacing="3", width="100%",
    )


@app_page(routes.BUDGET_EDITOR, "预算编辑", on_load=BudgetEditorState.load)
def budget_editor_page() -> rx.Component:
    return rx.vstack(
        _header_bar(),
        rule_panel(S.rules, S.rule_summary),
        _conflict_notice(),
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("明细", value="lines"), rx.tabs.trigger("分类小计", value="subtotals"),
                         rx.tabs.trigger("版本记录", value="versions", on_click=S.load_versions)),
            rx.tabs.content(rx.vstack(
                rx.cond(S.editable, _new_line_form()),
                _filters(),
                _grid(),
                pager(S.page_label, S.prev_page, S.next_page),
                spacing="3", width="100%", padding_top="0.8em",
            ), value="lines"),
            rx.tabs.content(rx.hstack(
                _subtotal_table("按经济分类（类）", S.econ_subtotals, "econ", "econ-subtotals"),
                _subtotal_table("按功能分类（类）", S.func_subtotals, "func", "func-subtotals"),
                spacing="4", wrap="wrap", width="100%", padding_top="0.8em", align="start",
            ), value="subtotals"),
            rx.tabs.content(rx.box(_versions_tab(), padding_top="0.8em"), value="versions"),
            default_value="lines", width="100%",
        ),
        _plan_dialog(), _picker_dialog(), _delete_dialog(), _action_dialog(), _import_dialog(), _template_dialog(),
        spacing="4", width="100%",
    )
