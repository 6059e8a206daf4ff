"""State of 预算审核: pending budgets and projects, subordinates, the consolidated view with drill-down, control
numbers, and the approve / return dialog. Layout: review.py."""

import asyncio
import re

import reflex as rx

from hbbudget import money
from hbbudget.clock import current_fiscal_year
from hbbudget.pages import display
from hbbudget.services.budgeting import projects, review, rollup
from hbbudget.services.errors import NotOffered, ValidationError
from hbbudget.services.security import scope
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PAGE_SIZE = 50
BY = {"org": "按单位", "function": "按功能分类", "economic": "按经济分类"}
ACTIONS = {"approve": "审核通过", "return": "退回"}


def _years() -> list[str]:
    this = current_fiscal_year()
    return [str(y) for y in range(this + 2, this - 4, -1)]


class ReviewState(rx.State):
    year: str = str(current_fiscal_year() + 1)
    years: list[str] = _years()
    unit: str = "yuan"
    org_name: str = ""
    tab: str = "pending"
    pending: list[dict[str, str]] = []
    pending_total: int = 0
    pending_projects: list[dict[str, str]] = []
    # approve / return dialog
    dialog_kind: str = ""  # budget | project
    dialog_action: str = ""
    dialog_title: str = ""
    # subordinates
    subs: list[dict[str, str]] = []
    subs_total: int = 0
    subs_offset: int = 0
    # consolidated
    by: str = "org"
    cons_rows: list[dict[str, str]] = []
    cons_total: str = ""
    cons_units: str = ""
    drill_title: str = ""
    drill_rows: list[dict[str, str]] = []
    drill_count: int = 0
    drill_offset: int = 0
    # control numbers
    controls: list[dict[str, str]] = []
    control_key: int = 0
    control_org: str = ""  # the org whose direct children the 一下 tab shows (any in the caller's 审核 scope)
    control_orgs: list[dict[str, str]] = []
    confirm_rows: list[dict[str, str]] = []  # 下达 waits for this confirmation

    _pending_ids: list[int] = []
    _project_ids: list[int] = []
    _dialog_id: int = 0
    _raw: dict = {}
    _drill: dict = {}
    _control_ids: list[int] = []
    _control_org_ids: list[int] = []
    _pending_controls: dict = {}

    @rx.var
    def subs_label(self) -> str:
        return display.page_label(self.subs_offset, PAGE_SIZE, self.subs_total)

    @rx.var
    def drill_label(self) -> str:
        return display.page_label(self.drill_offset, PAGE_SIZE, self.drill_count)

    def _y(self) -> int:
        return int(self.year)

    def _format(self) -> None:
        u, raw = self.unit, self._raw
        self.pending = [display.budget(r, u) for r in raw.get("pending", [])]
        self.pending_projects = [display.project(r, u) for r in raw.get("projects", [])]
        self.subs = [{"org_id": str(r.get("org_id", "")), "org_name": str(r.get("org_name", "")),
                      "parent_name": str(r.get("parent_name", "")), "budget_id": str(r.get("budget_id") or 0),
                      "round": str(r.get("round", "")), "status": str(r.get("status") or "未编制"),
                      "step_org_name": str(r.get("step_org_name", "")), "total": display.amount(r.get("total", 0), u),
                      "control": display.amount(r.get("control", 0), u) if r.get("control") else "未下达",
                      "over": "1" if r.get("over_control") else ""} for r in raw.get("subs", [])]
        cons = raw.get("cons") or {}
        self.cons_rows = [{"key": str(r.get("key", "")), "code": str(r.get("code", "")), "name": str(r.get("name", "")),
                           "units": str(r["units"]) if "units" in r else "",
                           "total": display.amount(r.get("total", 0), u), "count": str(r.get("count", 0))}
                          for r in cons.get("rows", [])]
        self.cons_total = display.amount(cons.get("total", 0), u) if cons else ""
        self.cons_units = str(cons.get("units", "")) if cons else ""
        self.drill_rows = [display.line(r, u) for r in raw.get("drill", [])]
        self.controls = [{"org_id": str(c.get("org_id", "")), "org_name": str(c.get("org_name", "")),
                          "amount": display.amount(c.get("amount", 0), u) if c.get("amount") else "未下达",
                          "amount_yuan": money.yuan_text(int(c.get("amount") or 0)) if c.get("amount") else "",
                          "status": str(c.get("status") or "未编制"), "round": str(c.get("round", "")),
                          "total": display.amount(c.get("total", 0), u), "budget_id": str(c.get("budget_id") or 0)}
                         for c in raw.get("controls", [])]

    async def _load_pending(self, ctx: UserContext) -> None:
        rows, self.pending_total = await asyncio.to_thread(review.pending_budgets, ctx, 0, PAGE_SIZE)
        prows: list[dict] = []
        if ctx.has("project.review"):
            prows, _ = await asyncio.to_thread(projects.pending_projects, ctx, 0, PAGE_SIZE)
        self._raw = {**self._raw, "pending": rows, "projects": prows}
        self._pending_ids = [r["id"] for r in rows]
        self._project_ids = [r["id"] for r in prows]

    async def _load_subs(self, ctx: UserContext) -> None:
        rows, self.subs_total = await asyncio.to_thread(rollup.subordinates, ctx, ctx.org_id, self._y(),
                                                        self.subs_offset, PAGE_SIZE)
        self._raw = {**self._raw, "subs": rows}

    async def _load_cons(self, ctx: UserContext) -> None:
        cons = await asyncio.to_thread(rollup.consolidated, ctx, ctx.org_id, self._y(), self.by)
        self._raw = {**self._raw, "cons": cons, "drill": []}
        self.drill_title, self.drill_count, self._drill = "", 0, {}

    async def _load_drill(self, ctx: UserContext) -> None:
        rows, self.drill_count = await asyncio.to_thread(
            rollup.consolidated_lines, ctx, ctx.org_id, self._y(), offset=self.drill_offset, limit=PAGE_SIZE,
            **self._drill)
        self._raw = {**self._raw, "drill": rows}

    async def _load_controls(self, ctx: UserContext) -> None:
        if not self._control_org_ids:
            parents = await asyncio.to_thread(review.control_parents, ctx)
            self.control_orgs = [{"id": str(p["id"]), "name": f"{p['name']}（{p['code']}）"} for p in parents]
            self._control_org_ids = [p["id"] for p in parents]
        if not self.control_org or int(self.control_org) not in self._control_org_ids:
            self.control_org = str(self._control_org_ids[0] if self._control_org_ids else ctx.org_id)
        self._close_confirm()
        rows = await asyncio.to_thread(review.control_numbers, ctx, int(self.control_org), self._y())
        self._raw = {**self._raw, "controls": rows}
        self._control_ids = [int(r["org_id"]) for r in rows]
        self.control_key += 1

    async def _load_tab(self, ctx: UserContext) -> None:
        if self.tab == "pending":
            await self._load_pending(ctx)
        elif self.tab == "subs":
            await self._load_subs(ctx)
        elif self.tab == "cons":
            await self._load_cons(ctx)
        elif self.tab == "controls":
            await self._load_controls(ctx)
        self._format()

    @rx.event
    @guarded("budget.review")
    async def load(self, ctx: UserContext):
        self.org_name, self.dialog_kind, self.subs_offset, self.drill_offset = ctx.org_name, "", 0, 0
        self._raw = {}
        await self._load_tab(ctx)

    @rx.event
    @guarded("budget.review")
    async def choose_tab(self, ctx: UserContext, tab: str):
        self.tab = args.as_choice(tab, ("pending", "subs", "cons", "controls"), "页签")
        await self._load_tab(ctx)

    @rx.event
    @guarded("budget.review")
    async def choose_year(self, ctx: UserContext, year: str):
        self.year = str(args.as_year(year))
        self.subs_offset = self.drill_offset = 0
        await self._load_tab(ctx)

    @rx.event
    @guarded("budget.review")
    async def choose_unit(self, ctx: UserContext, unit: str | list[str]):
        self.unit = args.as_unit(unit)
        self._format()

    # ---- approve / return ----

    @rx.event
    @guarded("budget.review")
    async def open_dialog(self, ctx: UserContext, kind: str, action: str, object_id: str):
        kind = args.as_choice(kind, ("budget", "project"), "对象")
        action = args.as_choice(action, ACTIONS, "操作")
        oid = args.offered_id(object_id, self._pending_ids if kind == "budget" else self._project_ids, "编号",
                              "该记录不在待审核列表中，请刷新")
        rows = self._raw.get("pending" if kind == "budget" else "projects", [])
        row = next((r for r in rows if r["id"] == oid), {})
        name = (f"{row.get('org_name', '')} {row.get('fiscal_year', '')} 年度预算（{row.get('round', '')}）"
                if kind == "budget" else f"项目 {row.get('code', '')} {row.get('name', '')}")
        self.dialog_kind, self.dialog_action, self._dialog_id = kind, action, oid
        self.dialog_title = f"{ACTIONS[action]}：{name}"

    @rx.event
    @guarded("budget.review")
    async def close_dialog(self, ctx: UserContext):
        self.dialog_kind = ""

    @rx.event
    @guarded("budget.review")
    async def confirm_dialog(self, ctx: UserContext, form_data: dict):
        kind = args.as_choice(self.dialog_kind, ("budget", "project"), "对象")
        action = args.as_choice(self.dialog_action, ACTIONS, "操作")
        comment = args.field(args.form(form_data), "comment", "审核意见", 500, required=action == "return")
        if kind == "budget":
            if action == "approve":
                await asyncio.to_thread(review.approve, ctx, self._dialog_id, comment)
            else:
                await asyncio.to_thread(review.return_budget, ctx, self._dialog_id, comment)
        else:
            await asyncio.to_thread(projects.transition, ctx, self._dialog_id, action, comment)
        self.dialog_kind = ""
        await self._load_pending(ctx)
        self._format()
        return rx.toast.success(f"已{ACTIONS[action]}")

    # ---- subordinates ----

    @rx.event
    @guarded("budget.review")
    async def subs_next(self, ctx: UserContext):
        if self.subs_offset + PAGE_SIZE < self.subs_total:
            self.subs_offset += PAGE_SIZE
            await self._load_subs(ctx)
            self._format()

    @rx.event
    @guarded("budget.review")
    async def subs_prev(self, ctx: UserContext):
        if self.subs_offset > 0:
            self.subs_offset = max(0, self.subs_offset - PAGE_SIZE)
            await self._load_subs(ctx)
            self._format()

    # ---- consolidated and drill-down ----

    @rx.event
    @guarded("budget.review")
    async def choose_by(self, ctx: UserContext, by: str | list[str]):
        self.by = args.as_choice(by, BY, "汇总方式")
        await self._load_cons(ctx)
        self._format()

    @rx.event
    @guarded("budget.review")
    async def drill(self, ctx: UserContext, key: str):
        rows = (self._raw.get("cons") or {}).get("rows", [])
        row = next((r for r in rows if str(r.get("key")) == str(key)), None)
        if row is None:
            raise NotOffered("汇总行无效，请刷新")
        if self.by == "org":
            self._drill = {"child_org_id": int(row["key"]) if str(row["key"]).isdigit() else 0}
        elif self.by == "function":
            self._drill = {"func_class": str(row["key"])}
        else:
            self._drill = {"econ_class": str(row["key"])}
        self.drill_title = f"{BY[self.by]}：{row.get('name', '')} 的明细"
        self.drill_offset = 0
        await self._load_drill(ctx)
        self._format()

    @rx.event
    @guarded("budget.review")
    async def drill_next(self, ctx: UserContext):
        if self.drill_title and self.drill_offset + PAGE_SIZE < self.drill_count:
            self.drill_offset += PAGE_SIZE
            await self._load_drill(ctx)
            self._format()

    @rx.event
    @guarded("budget.review")
    async def drill_prev(self, ctx: UserContext):
        if self.drill_title and self.drill_offset > 0:
            self.drill_offset = max(0, self.drill_offset - PAGE_SIZE)
            await self._load_drill(ctx)
            self._format()

    # ---- control numbers ----

    @rx.event
    @guarded("budget.review")
    async def issue_controls(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        offered = {f"c{org_id}" for org_id in self._control_ids}
        if any(re.fullmatch(r"c\d+", str(k)) and k not in offered and data[k] for k in data):
            raise NotOffered("该单位不在控制数列表中，请刷新")  # a crafted or stale field
        amounts: dict[int, str] = {}
        for org_id in self._control_ids:
            value = args.field(data, f"c{org_id}", "控制数", 32)
            if value:
                amounts[org_id] = value
        if not amounts:
            raise ValidationError("请至少填写一个下级单位的控制数")
        changes = await asyncio.to_thread(review.preview_control_numbers, ctx, int(self.control_org or ctx.org_id),
                                          self._y(), amounts)
        if not changes:
            raise ValidationError("控制数没有变化")
        self._pending_controls = {str(c["org_id"]): amounts[c["org_id"]] for c in changes}
        self.confirm_rows = [{"org_name": c["org_name"], "total": display.amount(c["total"], self.unit),
                              "before": display.amount(c["before"], self.unit) if c["before"] is not None else "未下达",
                              "after": display.amount(c["after"], self.unit)} for c in changes]

    def _close_confirm(self) -> None:
        self._pending_controls, self.confirm_rows = {}, []

    @rx.event
    @guarded("budget.review")
    async def confirm_controls(self, ctx: UserContext):
        """下达 after the confirmation: the amounts shown there, checked again by the service."""
        if not self._pending_controls:
            raise ValidationError("没有待确认的控制数，请重新填写")
        amounts, org_id = dict(self._pending_controls), int(self.control_org or ctx.org_id)
        rows = await asyncio.to_thread(review.issue_control_numbers, ctx, org_id, self._y(), amounts)
        self._close_confirm()
        self._raw = {**self._raw, "controls": rows}
        self.control_key += 1
        self._format()
        return rx.toast.success("控制数已下达")

    @rx.event
    @guarded("budget.review")
    async def cancel_controls(self, ctx: UserContext):
        self._close_confirm()

    @rx.event
    @guarded("budget.review")
    async def choose_control_org(self, ctx: UserContext, org_id: str):
        """Another org of the caller's 审核 scope: its direct children's control numbers."""
        chosen = scope.int_id(org_id, "单位")
        if chosen not in self._control_org_ids:
            raise NotOffered("该单位不在可选范围内，请刷新")
        self.control_org = str(chosen)
        await self._load_controls(ctx)
        self._format()


# ------------------------------------------------------------------ layout
