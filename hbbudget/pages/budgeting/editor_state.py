"""State of 预算编辑's grid: one server page of a budget's lines as display text, with the service's rows, totals,
subtotals and rule results in backend vars; loading, paging, filters, inline edits, add/copy/delete, conflicts.

Reflex sends the full value of every changed var (no list diff), so the page's display rows are split into
ROW_CHUNKS list vars of ROW_CHUNK rows and the rule flags of the page's lines are a var of their own: a save
sends the chunk holding its row, the flags, totals, subtotals and rule results, and every var is assigned only
when its value changed (`_put`). `page_rows(state)` joins the chunks (for tests and tools).

The dialogs are states of their own, children of `EditorDialog` (siblings of the grid): pickers, plan, Excel,
actions (submit/approve/return, 发起调整, 行间调剂), templates, versions (editor_<section>.py). Each reaches the
grid with `get_state`; the grid resets them when it loads a budget and tells them when the display unit changes.

Other viewers (issue 11 item 20): every tab showing a budget links `BudgetFeed` (a SharedState holding one number)
to the token `budget<id>`; a save of lines increments it, Reflex sends the new number to every linked tab, and a
tab whose `seen` differs shows 已被他人修改 with a 刷新 button (`refresh`: the page again from the server) —
so the total and the visible lines never silently disagree. The feed carries no budget data."""

import asyncio

import reflex as rx
from reflex_base.utils.exceptions import ReflexRuntimeError

from hbbudget import money
from hbbudget.pages import display
from hbbudget.services.budgeting import budgets
from hbbudget.services.budgeting.budgets import EditResult
from hbbudget.services.budgeting.lines import LineRow
from hbbudget.services.errors import Conflict, ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PAGE_SIZE = 50
ROW_CHUNK = 10  # rows per display var: one save re-sends ROW_CHUNK rows, not the page
ROW_VARS = tuple(f"rows_{i}" for i in range(PAGE_SIZE // ROW_CHUNK))
BASIC = "基本支出（不挂项目）"
CODE_KINDS = {"econ": "dept", "func": "function"}  # grid column -> code_options kind
DIALOG_ACTIONS = {"submit": "上报说明（存在警告时必填）", "approve": "审核意见", "return": "退回原因（必填）"}


class BudgetFeed(rx.SharedState):
    """Per open budget (token budget<id>): how many saves of its lines there were while tabs watched it."""
    version: int = 0


def page_rows(state: "BudgetEditorState") -> list[dict[str, str]]:
    """The page's display rows in order (the chunks joined). Not a handler: a module function."""
    return [row for name in ROW_VARS for row in getattr(state, name)]


class BudgetEditorState(rx.State):
    bid: int = 0
    header: dict[str, str] = {}
    editable: bool = False
    actions: list[dict[str, str]] = []
    unit: str = "yuan"
    # the page's display rows, ROW_CHUNK per var (see the module docstring); flags: line id → error | warning
    rows_0: list[dict[str, str]] = []
    rows_1: list[dict[str, str]] = []
    rows_2: list[dict[str, str]] = []
    rows_3: list[dict[str, str]] = []
    rows_4: list[dict[str, str]] = []
    flags: dict[str, str] = {}
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
    sources: list[str] = list(budgets.SOURCES)
    can_adjust: bool = False
    can_transfer: bool = False
    # the new-line form (its project and codes are chosen in the pickers)
    new_form_key: int = 0
    new_project_label: str = BASIC
    new_econ: str = ""
    new_func: str = ""
    # conflict notice
    conflict: str = ""
    conflict_values: str = ""
    # delete confirmation
    delete_id: str = ""
    delete_label: str = ""
    seen: int = 0  # BudgetFeed.version this tab's lines reflect (another value: someone else saved)

    _raw: dict[int, LineRow] = {}
    _order: list[int] = []
    _keys: dict[int, str] = {}  # line id → id-version as last loaded from the server (not by our own save)
    _totals: dict = {}
    _subtotals: dict = {}
    _rule_results: list[dict] = []
    _filters: dict = {}
    _new_project: int = 0

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.count)

    # ---- helpers (not callable by clients; the dialog states call them on the grid) ----

    def _put(self, name: str, value: object) -> None:
        """Assign a display var only when its value changes: an assignment sends the whole value."""
        if self._plain(name) != value:
            setattr(self, name, value)

    def _plain(self, name: str):
        """A var's value without Reflex's change-tracking proxy (reading through it costs a wrapper per item)."""
        value = getattr(self, name)
        return getattr(value, "__wrapped__", value)

    def _format(self, only: int = 0, rows: bool = True) -> None:
        """Display vars from the backend vars; `only`: just that line changed (its row is formatted again);
        `rows=False`: the rows are left as they are (the caller updated them)."""
        keys, raw = self._plain("_keys") or {}, self._plain("_raw")
        results = self._plain("_rule_results")
        order = [i for i in self._plain("_order") if i in raw]
        if not rows:
            pass
        elif only in order:
            pos = order.index(only)
            name = ROW_VARS[pos // ROW_CHUNK]
            chunk = [dict(r) for r in self._plain(name)]
            if len(chunk) > pos % ROW_CHUNK and chunk[pos % ROW_CHUNK].get("id") == str(only):
                chunk[pos % ROW_CHUNK] = display.grid_line(raw[only], self.unit, keys.get(only, ""))
                self._put(name, chunk)
            else:  # the chunks do not match the page (not expected): format them all
                only = 0
        if rows and not only:
            shown = [display.grid_line(raw[i], self.unit, keys.get(i, "")) for i in order]
            for n, name in enumerate(ROW_VARS):
                self._put(name, shown[n * ROW_CHUNK:(n + 1) * ROW_CHUNK])
        flags = display.flags(results)
        self._put("flags", {str(i): flags[i] for i in order if flags.get(i)})
        totals = self._plain("_totals") or {}
        self._put("total_text", display.amount(totals.get("total", 0), self.unit))
        self._put("source_text", display.by_source(totals, self.unit))
        sub = self._plain("_subtotals") or {}
        self._put("econ_subtotals", display.subtotals(sub.get("economic") or [], self.unit))
        self._put("func_subtotals", display.subtotals(sub.get("function") or [], self.unit))
        self._put("rules", display.rules(results))
        self._put("rule_summary", display.rule_summary(results))
        self._put("has_errors", any(not r.get("ok") and r.get("severity") == "error" for r in results))
        self._put("has_warnings", any(not r.get("ok") and r.get("severity") != "error" for r in results))

    def _reunit_rows(self) -> bool:
        """The unit changed: only each row's amount text changes (the rows are not formatted again). False when
        the shown rows do not match the backend vars (not expected: the caller formats them all)."""
        chunks = [[dict(r) for r in self._plain(name)] for name in ROW_VARS]
        raw = self._plain("_raw")
        if [r.get("id") for chunk in chunks for r in chunk] != [str(i) for i in self._plain("_order") if i in raw]:
            return False
        for name, chunk in zip(ROW_VARS, chunks):
            for r in chunk:
                r["amount"] = display.amount(raw[int(r["id"])].get("amount", 0), self.unit)
            self._put(name, chunk)
        return True

    def _set_header(self, header: dict) -> None:
        self.header = display.editor_header(header, self.unit)
        self.editable = bool(header.get("editable"))
        allowed = [a for a in header.get("actions") or [] if isinstance(a, dict)]
        self.actions = [{"action": str(a.get("action", "")), "label": str(a.get("label", ""))}
                        for a in allowed if a.get("action") in DIALOG_ACTIONS]
        # 发起调整/调剂 only where the service offers them (a current, not superseded, 已批复 budget in scope)
        self.can_adjust = any(a.get("action") in ("adjust", "transfer") for a in allowed)
        self.can_transfer = self.editable and header.get("round") == "调剂"

    async def _fetch(self, ctx: UserContext, with_rules: bool = True) -> None:
        f = self._filters or {}
        page = await asyncio.to_thread(
            budgets.fetch_lines, ctx, self.bid, offset=self.offset, limit=PAGE_SIZE, econ=f.get("econ", ""),
            func_code=f.get("func", ""), project_id=f.get("project_id", 0), search=f.get("search", ""),
            with_rules=with_rules)
        self._raw = {r["id"]: r for r in page["rows"]}
        self._order = [r["id"] for r in page["rows"]]
        self._keys = {r["id"]: f"{r['id']}-{r['version']}" for r in page["rows"]}
        self.count = page["count"]
        self._totals, self._subtotals = page["totals"], page["subtotals"]
        if with_rules:
            self._rule_results = page["rules"]
        self._format()

    async def _reload_header(self, ctx: UserContext) -> None:
        self._set_header(await asyncio.to_thread(budgets.get_budget, ctx, self.bid))

    def _apply(self, result: EditResult) -> None:
        """An update result: the row in place, totals, subtotals and rules from the same call."""
        row = result["row"]
        if row and row["id"] in self._raw:
            self._raw = {**self._raw, row["id"]: row}
        self._totals, self._subtotals, self._rule_results = result["totals"], result["subtotals"], result["rules"]
        self._put("conflict", "")
        self._format(only=row["id"] if row else 0)

    async def _conflict(self, ctx: UserContext, lid: int, err: Conflict):
        """Someone else saved (or deleted) the line: show who and when, and the stored values. The row's key
        changes with the stored version, so its inputs drop unsaved text and show what is stored."""
        current = err.current or {}
        self.conflict = err.message
        if current.get("id") == lid:
            self._raw = {**self._raw, lid: current}
            self._keys = {**self._keys, lid: f"{lid}-{current.get('version', '')}"}
            self.conflict_values = display.conflict_values(current, self.unit)
            self._format(only=lid)
        else:  # gone: the page shifts
            self.conflict_values = ""
            await self._fetch(ctx, with_rules=False)
        return rx.toast.warning(err.message)

    def _line_id(self, line_id: object) -> int:
        return args.offered_id(line_id, self._raw, "明细编号", "该行不在当前页，请刷新后重试")

    def _need_editable(self) -> None:
        if not self.editable:
            raise ValidationError("当前状态不能修改预算")

    async def _update(self, ctx: UserContext, line_id: object, changes: dict):
        """Save changes to a line of the page: None when saved, the conflict's toast when someone was first."""
        self._need_editable()
        lid = self._line_id(line_id)
        try:
            result = await asyncio.to_thread(budgets.update_line, ctx, lid, changes, self._raw[lid]["version"])
        except Conflict as err:
            return await self._conflict(ctx, lid, err)
        self._apply(result)
        await self._tell_viewers()

    async def _after_structure_change(self, ctx: UserContext, result: EditResult) -> None:
        """Add / copy / delete / template / 调剂: the page may shift; refetch it, keep the rules of the result."""
        self.conflict = ""
        self._rule_results = result["rules"]
        await self._fetch(ctx, with_rules=False)
        await self._tell_viewers()

    async def _watch(self) -> None:
        """Link this tab to the open budget's feed (after the scope check) and take its number as seen."""
        feed = await self.get_state(BudgetFeed)
        try:
            feed = await feed._link_to(f"budget{self.bid}")
        except ReflexRuntimeError:  # outside event processing (handler unit tests): works, just not live
            pass
        self.seen = feed.version

    async def _tell_viewers(self) -> None:
        """This tab saved lines: the other tabs on the budget learn it; this one is up to date."""
        feed = await self.get_state(BudgetFeed)
        feed.version += 1
        self.seen = feed.version

    async def _dialogs(self) -> list["EditorDialog"]:
        return [await self.get_state(cls) for cls in EditorDialog.get_substates()]

    # ---- loading and paging ----

    @rx.event
    @guarded("budget.view")
    async def load(self, ctx: UserContext):
        bid = args.as_id(str(self.router.url.path or "").rstrip("/").rsplit("/", 1)[-1], "预算编号")  # /budgets/12
        # clear the page first (nothing of the previous budget stays if this one is refused), then check, then fill
        self.bid, self.offset, self._filters, self.filter_text = 0, 0, {}, ""
        self.conflict = self.conflict_values = self.new_econ = self.new_func = ""
        self._new_project, self.new_project_label = 0, BASIC
        for name in ROW_VARS:
            setattr(self, name, [])
        self.header, self.flags, self.can_adjust, self.can_transfer = {}, {}, False, False
        self.editable, self.actions, self.count = False, [], 0
        self._raw, self._order, self._keys, self._totals, self._subtotals, self._rule_results = {}, [], {}, {}, {}, []
        self._format()
        for dialog in await self._dialogs():
            dialog.reset()
        header = await asyncio.to_thread(budgets.get_budget, ctx, bid)  # the scope check
        self.bid = bid
        self._set_header(header)
        await self._watch()
        await self._fetch(ctx)

    @rx.event
    @guarded("budget.view")
    async def refresh(self, ctx: UserContext):
        """刷新 after another user's save: this page of lines, the totals and the rules again from the server."""
        if not self.bid:
            return
        self.seen = (await self.get_state(BudgetFeed)).version
        self.conflict = self.conflict_values = ""
        await self._reload_header(ctx)
        await self._fetch(ctx)

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

    async def _filter(self, ctx: UserContext, filters: dict, text: str) -> None:
        self._filters, self.filter_text, self.offset = filters, text, 0
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
        await self._filter(ctx, {"econ": econ, "func": func, "search": search, "project_id": 0},
                           "、".join(x for x in (econ and f"经济 {econ}", func and f"功能 {func}",
                                                search and f"“{search}”") if x))

    @rx.event
    @guarded("budget.view")
    async def filter_class(self, ctx: UserContext, kind: str, code: str):
        """Click on a subtotal: show that 类 only."""
        kind = args.as_choice(kind, ("econ", "func"), "分类")
        code = args.as_text(code, "编码", 7)
        if code and not code.isdigit():
            raise ValidationError("编码无效")
        await self._filter(ctx, {"econ": code if kind == "econ" else "", "func": code if kind == "func" else "",
                                 "search": "", "project_id": 0}, f"{'经济' if kind == 'econ' else '功能'}分类 {code}")

    @rx.event
    @guarded("budget.view")
    async def clear_filter(self, ctx: UserContext):
        await self._filter(ctx, {}, "")

    @rx.event
    @guarded("budget.view")
    async def choose_unit(self, ctx: UserContext, unit: str | list[str]):
        self.unit = args.as_unit(unit)
        if self.header:
            self.header = {**self.header, "total": display.amount((self._totals or {}).get("total", 0), self.unit)}
        self._format(rows=not self._reunit_rows())
        for cls in EditorDialog.get_substates():  # only the dialogs that show amounts (the others stay unloaded)
            if cls._unit_changed is not EditorDialog._unit_changed:
                (await self.get_state(cls))._unit_changed(self.unit)

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
        if money.parse_yuan(text) == self._raw[lid]["amount"]:
            return None
        return await self._update(ctx, lid, {"amount": text})

    @rx.event
    @guarded("budget.edit")
    async def save_note(self, ctx: UserContext, line_id: str, value: str):
        lid = self._line_id(line_id)
        note = args.as_text(value, "备注", 200)
        if note == self._raw[lid]["note"]:
            return None
        return await self._update(ctx, lid, {"note": note})

    @rx.event
    @guarded("budget.edit")
    async def save_source(self, ctx: UserContext, line_id: str, value: str):
        lid = self._line_id(line_id)
        source = args.as_choice(value, budgets.SOURCES, "资金来源")
        if source == self._raw[lid]["source"]:
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
        if code == self._raw[lid][f"{column}_code"]:
            return None
        return await self._update(ctx, lid, {f"{column}_code": code})

    @rx.event
    @guarded("budget.edit")
    async def dismiss_conflict(self, ctx: UserContext):
        self.conflict = self.conflict_values = ""

    # ---- add / copy / delete ----

    @rx.event
    @guarded("budget.edit")
    async def add_line(self, ctx: UserContext, form_data: dict):
        self._need_editable()
        data = args.form(form_data)
        line = {
            "project_id": self._new_project,
            "econ_code": args.field(data, "econ_code", "经济分类", 7, required=True),
            "func_code": args.field(data, "func_code", "功能分类", 7, required=True),
            "source": args.as_choice(data.get("source") or budgets.SOURCES[0], budgets.SOURCES, "资金来源"),
            "amount": args.field(data, "amount", "金额", 32, required=True),
            "note": args.field(data, "note", "备注", 200),
        }
        result = await asyncio.to_thread(budgets.add_line, ctx, self.bid, line)
        self.new_econ = self.new_func = ""
        self._new_project, self.new_project_label = 0, BASIC
        self.new_form_key += 1
        await self._after_structure_change(ctx, result)
        await self._reload_header(ctx)
        return rx.toast.success("已新增一行")

    @rx.event
    @guarded("budget.edit")
    async def copy_line(self, ctx: UserContext, line_id: str):
        self._need_editable()
        result = await asyncio.to_thread(budgets.copy_line, ctx, self._line_id(line_id))
        await self._after_structure_change(ctx, result)
        return rx.toast.success("已复制")

    @rx.event
    @guarded("budget.edit")
    async def ask_delete(self, ctx: UserContext, line_id: str):
        self._need_editable()
        lid = self._line_id(line_id)
        self.delete_id = str(lid)
        self.delete_label = display.line_label(self._raw[lid])

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
            result = await asyncio.to_thread(budgets.delete_line, ctx, lid, self._raw[lid]["version"])
        except Conflict as err:
            return await self._conflict(ctx, lid, err)
        await self._after_structure_change(ctx, result)
        await self._reload_header(ctx)
        return rx.toast.success("已删除")


class EditorDialog(rx.State):
    """The common parent of the editor's dialog states. `reset()` (Reflex's) closes and empties a dialog when the
    grid loads a budget; `_unit_changed` is called when the grid's display unit changes."""

    async def _grid(self) -> BudgetEditorState:
        return await self.get_state(BudgetEditorState)

    def _unit_changed(self, unit: str) -> None:
        """Most dialogs show nothing in the display unit."""
