"""State of 预算编辑: one server page of a budget's lines as display text, with the service's rows, totals,
subtotals and rule results in backend vars; the handlers behind the grid, the dialogs and the versions tab.

Reflex sends the full value of every changed var (no list diff), so the page's display rows are split into
ROW_CHUNKS list vars of ROW_CHUNK rows and the rule flags of the page's lines are a var of their own: a save
sends the chunk holding its row, the flags, totals, subtotals and rule results, and every var is assigned only
when its value changed (`_put`). `page_rows(state)` joins the chunks (for tests and tools)."""

import asyncio
import hashlib

import reflex as rx

from hbbudget import money, routes
from hbbudget.pages import display
from hbbudget.services.budgeting import budgets, review, templates
from hbbudget.services.errors import Conflict, NotOffered, ValidationError
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PAGE_SIZE = 50
ROW_CHUNK = 10  # rows per display var: one save re-sends ROW_CHUNK rows, not the page
ROW_VARS = tuple(f"rows_{i}" for i in range(PAGE_SIZE // ROW_CHUNK))
PICKER_SIZE = 30
BASIC = "基本支出（不挂项目）"
MAX_IMPORT_BYTES = 10 * 1024 * 1024
IMPORT_ID = "budget-import"
MONTH_LABELS = [f"{i}月" for i in range(1, 13)]
CODE_KINDS = {"econ": "dept", "func": "function"}  # grid column -> code_options kind
DIALOG_ACTIONS = {"submit": "上报说明（存在警告时必填）", "approve": "审核意见", "return": "退回原因（必填）"}


def _path_id(path: str) -> int:
    """/budgets/12 → 12 (the dynamic route segment)."""
    return args.as_id(str(path or "").rstrip("/").rsplit("/", 1)[-1], "预算编号")


def page_rows(state: "BudgetEditorState") -> list[dict[str, str]]:
    """The page's display rows in order (the chunks joined). Not a handler: a module function."""
    return [row for name in ROW_VARS for row in getattr(state, name)]


def _project_label(p: dict) -> str:
    return f"{p.get('name', '')}（{p.get('code', '')}，{p.get('status', '')}）"


def _problem_rows(problems: list[dict]) -> list[dict[str, str]]:
    return [{"row": str(p.get("row", "")), "column": str(p.get("column", "")), "reason": str(p.get("reason", ""))}
            for p in problems[:200]]


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
    new_form_key: int = 0
    # project picker (grid lines, the new-line form, the template dialog)
    project_open: bool = False
    project_title: str = ""
    project_options: list[dict[str, str]] = []
    new_project_label: str = BASIC
    template_project_label: str = BASIC
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
    # 调剂 between lines (a 调剂 draft)
    can_transfer: bool = False
    transfer_open: bool = False
    transfer_choices: list[dict[str, str]] = []
    transfer_key: int = 0
    # versions
    versions: list[dict[str, str]] = []
    diff_summary: str = ""
    diff_rows: list[dict[str, str]] = []

    _raw: dict[int, dict] = {}
    _order: list[int] = []
    _keys: dict[int, str] = {}  # line id → id-version as last loaded from the server (not by our own save)
    _totals: dict = {}
    _subtotals: dict = {}
    _rule_results: list[dict] = []
    _filters: dict = {}
    _picker_target: int = 0
    _import_sha: str = ""
    _diff: dict = {}
    _diff_names: tuple = ("", "")
    _template_ids: list[int] = []
    _project_target: str = ""  # "new" | "template" | a line id
    _project_ids: list[int] = []  # the projects the picker offered
    _new_project: int = 0
    _template_project: int = 0

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.count)

    # ---- helpers (not callable by clients) ----

    def _put(self, name: str, value: object) -> None:
        """Assign a display var only when its value changes: an assignment sends the whole value."""
        if getattr(self, name) != value:
            setattr(self, name, value)

    def _format(self, only: int = 0) -> None:
        """Display vars from the backend vars; `only`: just that line changed (its row is formatted again)."""
        keys = self._keys or {}
        order = [i for i in self._order if i in self._raw]
        if only in order:
            pos = order.index(only)
            name = ROW_VARS[pos // ROW_CHUNK]
            chunk = [dict(r) for r in getattr(self, name)]
            if len(chunk) > pos % ROW_CHUNK and chunk[pos % ROW_CHUNK].get("id") == str(only):
                chunk[pos % ROW_CHUNK] = display.grid_line(self._raw[only], self.unit, keys.get(only, ""))
                self._put(name, chunk)
            else:  # the chunks do not match the page (not expected): format them all
                only = 0
        if not only:
            rows = [display.grid_line(self._raw[i], self.unit, keys.get(i, "")) for i in order]
            for n, name in enumerate(ROW_VARS):
                self._put(name, rows[n * ROW_CHUNK:(n + 1) * ROW_CHUNK])
        flags = display.flags(self._rule_results)
        self._put("flags", {str(i): flags[i] for i in self._order if flags.get(i)})
        totals = self._totals or {}
        self._put("total_text", display.amount(totals.get("total", 0), self.unit))
        self._put("source_text", display.by_source(totals, self.unit))
        sub = self._subtotals or {}
        self._put("econ_subtotals", display.subtotals(sub.get("economic") or [], self.unit))
        self._put("func_subtotals", display.subtotals(sub.get("function") or [], self.unit))
        self._put("rules", display.rules(self._rule_results))
        self._put("rule_summary", display.rule_summary(self._rule_results))
        self._put("has_errors", any(not r.get("ok") and r.get("severity") == "error" for r in self._rule_results))
        self._put("has_warnings", any(not r.get("ok") and r.get("severity") != "error" for r in self._rule_results))
        if self._diff:
            self._format_diff()

    def _set_header(self, header: dict) -> None:
        self.header = {**display.budget(header, self.unit),
                       "title": f"{header.get('org_name', '')} {header.get('fiscal_year', '')} 年度预算（{header.get('round', '')}）"}
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
        self._keys = {r["id"]: f"{r['id']}-{r.get('version', '')}" for r in page["rows"]}
        self.count = int(page.get("count", 0))
        self._totals, self._subtotals = page.get("totals") or {}, page.get("subtotals") or {}
        if with_rules:
            self._rule_results = page.get("rules") or []
        self._format()

    async def _reload_header(self, ctx: UserContext) -> None:
        self._set_header(await asyncio.to_thread(budgets.get_budget, ctx, self.bid))

    def _apply(self, result: dict) -> None:
        """An update result: the row in place, totals, subtotals and rules from the same call."""
        row = result.get("row") or {}
        if row.get("id") in self._raw:
            self._raw = {**self._raw, row["id"]: row}
        self._totals = result.get("totals") or self._totals
        self._subtotals = result.get("subtotals") or self._subtotals
        if "rules" in result:
            self._rule_results = result["rules"] or []
        self._put("conflict", "")
        self._format(only=int(row.get("id") or 0))

    async def _conflict(self, ctx: UserContext, lid: int, err: Conflict):
        """Someone else saved (or deleted) the line: show who and when, and the stored values. The row's key
        changes with the stored version, so its inputs drop unsaved text and show what is stored."""
        current = err.current or {}
        self.conflict = err.message
        if current.get("id") == lid:
            self._raw = {**self._raw, lid: current}
            self._keys = {**self._keys, lid: f"{lid}-{current.get('version', '')}"}
            self.conflict_values = (
                f"当前内容：{current.get('econ_code', '')} {current.get('econ_name', '')}；"
                f"{current.get('func_code', '')} {current.get('func_name', '')}；{current.get('source', '')}；"
                f"{display.amount(current.get('amount', 0), self.unit)}；备注：{current.get('note', '') or '无'}")
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
        self._need_editable()
        lid = self._line_id(line_id)
        try:
            result = await asyncio.to_thread(budgets.update_line, ctx, lid, changes,
                                             int(self._raw[lid].get("version", 0)))
        except Conflict as err:
            return await self._conflict(ctx, lid, err)
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
        # clear the page first (nothing of the previous budget stays if this one is refused), then check, then fill
        self.bid, self.offset, self._filters, self.filter_text = 0, 0, {}, ""
        self.conflict = self.conflict_values = ""
        self.versions, self.diff_rows, self.diff_summary, self._diff = [], [], "", {}
        self.import_open, self.plan_open, self.picker_open, self.action = False, False, False, ""
        self.new_econ = self.new_func = ""
        self.project_open, self.transfer_open, self.project_options, self._project_ids = False, False, [], []
        self._new_project = self._template_project = 0
        self.new_project_label = self.template_project_label = BASIC
        for name in ROW_VARS:
            setattr(self, name, [])
        self.header, self.flags, self.can_adjust, self.can_transfer = {}, {}, False, False
        self.editable, self.actions, self.count = False, [], 0
        self._raw, self._order, self._keys, self._totals, self._subtotals, self._rule_results = {}, [], {}, {}, {}, []
        self._format()
        header = await asyncio.to_thread(budgets.get_budget, ctx, bid)  # the scope check
        self.bid = bid
        self._set_header(header)
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
        source = args.as_choice(value, budgets.SOURCES, "资金来源")
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

    # ---- project picker (searched on the server: every project of the unit can be chosen) ----

    @rx.event
    @guarded("budget.edit")
    async def open_project_picker(self, ctx: UserContext, target: str):
        """target: a line id of the page, "new" (the new-line form) or "template" (the template dialog)."""
        target = args.as_text(target, "选择对象", 16, required=True)
        self._need_editable()
        if target not in ("new", "template"):
            target = str(self._line_id(target))
        self._project_target = target
        self.project_title = "选择项目" if target in ("new", "template") else "选择本行的项目"
        await self._search_projects(ctx, "")
        self.project_open = True

    async def _search_projects(self, ctx: UserContext, text: str) -> None:
        found = await asyncio.to_thread(budgets.project_options, ctx, self.bid, text, PICKER_SIZE)
        self._project_ids = [int(p["id"]) for p in found]
        self.project_options = [{"id": "0", "label": BASIC}] + [
            {"id": str(p["id"]), "label": _project_label(p)} for p in found]

    @rx.event
    @guarded("budget.edit")
    async def search_projects(self, ctx: UserContext, form_data: dict):
        if not self.project_open:
            raise ValidationError("请先打开项目选择")
        await self._search_projects(ctx, args.field(args.form(form_data), "q", "查询内容", 64))

    @rx.event
    @guarded("budget.edit")
    async def close_project_picker(self, ctx: UserContext):
        self.project_open = False

    @rx.event
    @guarded("budget.edit")
    async def pick_project(self, ctx: UserContext, project_id: str):
        pid = args.as_opt_id(project_id, "项目")
        if not self.project_open:
            raise ValidationError("请先打开项目选择")
        if pid and pid not in self._project_ids:
            raise NotOffered("请从列表中选择项目")
        label = next((o["label"] for o in self.project_options if o["id"] == str(pid)), BASIC)
        target = self._project_target
        self.project_open = False
        if target == "new":
            self._new_project, self.new_project_label = pid, label
            return None
        if target == "template":
            self._template_project, self.template_project_label = pid, label
            return None
        lid = self._line_id(target)
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
        options = await asyncio.to_thread(budgets.code_options, ctx, year, CODE_KINDS[self.picker_kind], text, 30)
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
            result = await asyncio.to_thread(budgets.delete_line, ctx, lid, int(self._raw[lid].get("version", 0)))
        except Conflict as err:
            return await self._conflict(ctx, lid, err)
        await self._after_structure_change(ctx, result)
        await self._reload_header(ctx)
        return rx.toast.success("已删除")

    # ---- Excel ----

    @rx.event
    @guarded("budget.view")
    async def export_excel(self, ctx: UserContext):
        if not self.bid:
            raise ValidationError("请先打开预算")
        from hbbudget.services.budgeting import excel

        filename, data = await asyncio.to_thread(excel.export_budget, ctx, self.bid)
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
        from hbbudget.services.budgeting import excel

        name, data = await asyncio.to_thread(self._read_upload, files)
        result = await asyncio.to_thread(excel.import_preview, ctx, self.bid, name, data)
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
        from hbbudget.services.budgeting import excel

        try:
            await asyncio.to_thread(excel.import_commit, ctx, self.bid, name, data)
        except ValidationError as err:  # excel.ImportRefused carries .problems
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
        self._template_project, self.template_project_label = 0, BASIC
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
        tid = args.offered_id(data.get("template_id"), self._template_ids, "模板", "请选择模板")
        result = await asyncio.to_thread(
            templates.apply_template, ctx, self.bid, tid,
            project_id=self._template_project,
            func_code=args.field(data, "func_code", "功能分类", 7, required=True),
            source=args.as_choice(data.get("source") or budgets.SOURCES[0], budgets.SOURCES, "资金来源"),
            amount=args.field(data, "amount", "金额", 32, required=True))
        self.template_open = False
        await self._after_structure_change(ctx, result)
        await self._reload_header(ctx)
        return rx.toast.success(f"已按模板新增 {len(result.get('added_ids') or [])} 行")

    @rx.event
    @guarded("budget.edit")
    async def start_adjustment(self, ctx: UserContext, kind: str):
        kind = args.as_choice(kind, ("调整", "调剂"), "调整类型")
        header = await asyncio.to_thread(budgets.create_adjustment, ctx, self.bid, kind)
        return [rx.toast.success(f"已发起{kind}"), rx.redirect(routes.budget_editor(header["id"]))]

    @rx.event
    @guarded("budget.edit")
    async def open_transfer(self, ctx: UserContext):
        """调剂 between two lines of this page (filter the grid to reach other lines)."""
        if not self.can_transfer:
            raise ValidationError("只有可编辑的调剂单可以在行间调剂资金")
        self.transfer_choices = [
            {"id": str(i), "label": f"{r.get('econ_code', '')} {r.get('econ_name', '')} / {r.get('func_code', '')} / "
                                    f"{r.get('source', '')} / {r.get('project_code') or '基本支出'}："
                                    f"{display.amount(r.get('amount', 0), 'yuan')}"}
            for i in self._order if (r := self._raw.get(i))]
        self.transfer_key += 1
        self.transfer_open = True

    @rx.event
    @guarded("budget.edit")
    async def close_transfer(self, ctx: UserContext):
        self.transfer_open = False

    @rx.event
    @guarded("budget.edit")
    async def do_transfer(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        if not data.get("from_line") or not data.get("to_line"):
            raise ValidationError("请选择调出行和调入行")
        src = self._line_id(data.get("from_line"))  # lines first: one the page never showed is recorded
        dst = self._line_id(data.get("to_line"))
        if not self.can_transfer or not self.transfer_open:
            raise ValidationError("只有可编辑的调剂单可以在行间调剂资金")
        if src == dst:
            raise ValidationError("调出行和调入行不能相同")
        amount = args.field(data, "amount", "调剂金额", 32, required=True)
        note = args.field(data, "note", "调剂说明", 200)
        result = await asyncio.to_thread(budgets.transfer, ctx, self.bid, src, dst, amount, note)
        self.transfer_open = False
        await self._after_structure_change(ctx, result)
        await self._reload_header(ctx)
        return rx.toast.success(f"已调剂 {display.amount(money.parse_yuan(amount), 'yuan')}")

    # ---- versions ----

    @rx.event
    @guarded("budget.view")
    async def load_versions(self, ctx: UserContext):
        rows = await asyncio.to_thread(budgets.list_versions, ctx, self.bid)
        self.versions = [{"version_no": str(v["version_no"]), "round": str(v.get("round", "")),
                          "event": str(v.get("event", "")), "created_at": str(v.get("created_at", "")),
                          "created_by": str(v.get("created_by", "")), "total": display.amount(v.get("total", 0), self.unit),
                          "reason": str(v.get("reason", ""))} for v in rows]

    @rx.event
    @guarded("budget.view")
    async def compare_versions(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        known = {int(v["version_no"]) for v in self.versions}
        a = args.offered_id(data.get("from_version"), known, "比较的版本", "比较的版本无效")
        b = str(data.get("to_version") or "0")
        if b != "0":
            b = args.offered_id(b, known, "比较的版本", "比较的版本无效")
        self._diff = await asyncio.to_thread(budgets.diff, ctx, self.bid, int(a), int(b))
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
