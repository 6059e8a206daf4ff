"""项目库: the project list (one page at a time, new project) and one project's page (fields, 绩效目标,
attachments, declare / review actions)."""

import asyncio
import secrets

import reflex as rx

from components import tokens
from components.table import pager, row_table
from components.widgets import labelled, money_cell, status_badge, unit_switch
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages import display
from hbbudget.pages.shell.base import app_page
from hbbudget.services.budgeting import flows, projects
from hbbudget.services.errors import ValidationError
from hbbudget.services.security.permissions import UserContext
from hbbudget.settings import get_settings
from state import args
from state.guard import guarded
from state.paging import paging

PAGE_SIZE = 50
ATTACH_ID = "project-attachment"
FIELD_LIMITS = {"name": ("项目名称", 128), "total": ("项目总额", 32), "func_code": ("功能分类科目", 16),
                "owner": ("负责人", 64), "description": ("项目说明", 2000), "code": ("项目编码", 32)}


def _project_fields(data: dict, parent_ids: list[int]) -> dict:
    """The typed project fields of a form (the service checks the values); the parent must be one offered."""
    out = {key: args.field(data, key, label, limit) for key, (label, limit) in FIELD_LIMITS.items()}
    out["category"] = args.as_choice(data.get("category") or "", projects.CATEGORIES, "项目类别")
    out["kind"] = args.as_choice(data.get("kind") or "新增", projects.KINDS, "项目性质")
    out["start_year"] = args.as_year(data.get("start_year"))
    out["end_year"] = args.as_year(data.get("end_year"))
    if not out["code"]:
        out.pop("code")
    if "parent_id" in data:
        pid = args.as_opt_id(data.get("parent_id"), "上级项目")
        out["parent_id"] = args.offered_id(pid, parent_ids, "上级项目", "请从列表中选择上级项目") if pid else None
    return out


def _choices(rows: list[dict]) -> list[dict[str, str]]:
    return [{"id": str(r["id"]), "label": f"{r['code']} {r['name']}"} for r in rows]


def _parent_search(form_data: dict) -> str:
    return args.field(args.form(form_data), "parent_q", "上级项目查找内容", projects.MAX_PARENT_SEARCH)


class ProjectsState(rx.State):
    rows: list[dict[str, str]] = []
    total: int = 0
    offset: int = 0
    status: str = ""
    search_text: str = ""
    unit: str = "yuan"
    can_create: bool = False
    create_open: bool = False
    parent_choices: list[dict[str, str]] = []
    parent_more: bool = False  # more 一级 projects match than are offered: search by keyword
    parent_key: int = 0  # a new search resets the 上级项目 select to what the page offers
    _raw: list[dict] = []
    _parent_ids: list[int] = []

    @rx.var
    def page_label(self) -> str:
        return display.page_label(self.offset, PAGE_SIZE, self.total)

    async def _refresh(self, ctx: UserContext) -> None:
        self._raw, self.total = await asyncio.to_thread(
            projects.list_projects, ctx, status=self.status, search=self.search_text, offset=self.offset,
            limit=PAGE_SIZE)
        self.rows = [display.project(r, self.unit) for r in self._raw]

    @rx.event
    @guarded("project.view")
    async def load(self, ctx: UserContext):
        self.offset, self.create_open, self.can_create = 0, False, ctx.has("project.edit")
        await self._refresh(ctx)

    @rx.event
    @guarded("project.view")
    async def search(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        status = str(data.get("status") or "")
        self.status = "" if status in ("", "all") else args.as_choice(status, flows.PROJECT_STATES, "状态")
        self.search_text = args.field(data, "q", "搜索", 64)
        self.offset = 0
        await self._refresh(ctx)

    @rx.event
    @guarded("project.view")
    async def choose_unit(self, ctx: UserContext, unit: str | list[str]):
        self.unit = args.as_unit(unit)
        self.rows = [display.project(r, self.unit) for r in self._raw]

    next_page, prev_page = paging("ProjectsState", "project.view", PAGE_SIZE)

    @rx.event
    @guarded("project.edit")
    async def open_create(self, ctx: UserContext):
        await self._search_parents(ctx, "")
        self.create_open = True

    async def _search_parents(self, ctx: UserContext, text: str) -> None:
        rows, self.parent_more = await asyncio.to_thread(projects.parent_choices, ctx, ctx.org_id, text)
        self.parent_choices, self._parent_ids = _choices(rows), [int(r["id"]) for r in rows]
        self.parent_key += 1

    @rx.event
    @guarded("project.edit")
    async def search_parents(self, ctx: UserContext, form_data: dict):
        await self._search_parents(ctx, _parent_search(form_data))

    @rx.event
    @guarded("project.edit")
    async def close_create(self, ctx: UserContext):
        self.create_open = False

    @rx.event
    @guarded("project.edit")
    async def create(self, ctx: UserContext, form_data: dict):
        data = _project_fields(args.form(form_data), self._parent_ids)
        detail = await asyncio.to_thread(projects.create_project, ctx, ctx.org_id, data)
        self.create_open = False
        return [rx.toast.success(f"已新建项目 {detail['code']}"), rx.redirect(routes.project_detail(detail["id"]))]


class ProjectDetailState(rx.State):
    pid: int = 0
    project: dict[str, str] = {}
    editable: bool = False
    actions: list[dict[str, str]] = []
    targets: list[dict[str, str]] = []
    attachments: list[dict[str, str]] = []
    parent_choices: list[dict[str, str]] = []
    parent_more: bool = False  # more 一级 projects match than are offered: search by keyword
    parent_key: int = 0  # a new search resets the 上级项目 select to what the page offers
    form_key: int = 0
    # action dialog
    action: str = ""
    action_label: str = ""
    action_needs_comment: bool = False
    delete_open: bool = False
    _actions: dict = {}
    _attachment_ids: list[int] = []
    _parent_ids: list[int] = []
    _org_id: int = 0

    def _show(self, detail: dict) -> None:
        self.pid, self._org_id = int(detail["id"]), int(detail["org_id"])
        self.project = {**display.project(detail, "yuan"), "description": str(detail.get("description", "")),
                        "total_yuan": str(detail.get("total_yuan", "")), "category": str(detail.get("category", "")),
                        "start_year": str(detail.get("start_year", "")), "end_year": str(detail.get("end_year", "")),
                        "last_comment": str(detail.get("last_comment", "")),
                        "parent_id": str(detail.get("parent_id") or 0),
                        "updated_at": str(detail.get("updated_at", ""))}
        self.editable = bool(detail.get("editable"))
        self._actions = {a["action"]: a for a in detail.get("actions") or []}
        self.actions = [{"action": str(a["action"]), "label": str(a["label"])} for a in detail.get("actions") or []]
        self.targets = [{"uid": secrets.token_hex(4), "indicator": str(t.get("indicator", "")),
                         "unit": str(t.get("unit", "")), "direction": str(t.get("direction", "≥")),
                         "target_value": str(t.get("target_value", "")), "weight": str(t.get("weight", 0))}
                        for t in detail.get("targets") or []]
        self.attachments = [{"id": str(a["id"]), "filename": str(a.get("filename", "")),
                             "size": f"{int(a.get('size', 0)) / 1024:,.1f} KB", "uploaded_by": str(a.get("uploaded_by", "")),
                             "uploaded_at": str(a.get("uploaded_at", ""))} for a in detail.get("attachments") or []]
        self._attachment_ids = [int(a["id"]) for a in detail.get("attachments") or []]
        self._put_parents(detail.get("parent_choices") or [], bool(detail.get("parent_more")))
        self.form_key += 1

    def _put_parents(self, rows: list[dict], more: bool) -> None:
        self.parent_choices, self._parent_ids = _choices(rows), [int(r["id"]) for r in rows]
        self.parent_more = more
        self.parent_key += 1

    @rx.event
    @guarded("project.view")
    async def load(self, ctx: UserContext):
        pid = args.as_id(str(self.router.url.path or "").rstrip("/").rsplit("/", 1)[-1], "项目编号")
        self.action, self.delete_open, self.project = "", False, {}
        self._show(await asyncio.to_thread(projects.get_project, ctx, pid))

    @rx.event
    @guarded("project.edit")
    async def save(self, ctx: UserContext, form_data: dict):
        if not self.editable:
            raise ValidationError("当前状态不能修改项目")
        data = _project_fields(args.form(form_data), self._parent_ids)  # an empty code keeps the current one
        self._show(await asyncio.to_thread(projects.update_project, ctx, self.pid, data))
        return rx.toast.success("已保存")

    @rx.event
    @guarded("project.edit")
    async def search_parents(self, ctx: UserContext, form_data: dict):
        if not self.editable:
            raise ValidationError("当前状态不能修改项目")
        text = _parent_search(form_data)
        self._put_parents(*await asyncio.to_thread(projects.parent_choices, ctx, self._org_id, text,
                                                   project_id=self.pid))

    # ---- targets ----

    @rx.event
    @guarded("project.edit")
    async def add_target(self, ctx: UserContext):
        if len(self.targets) >= projects.MAX_TARGETS:
            raise ValidationError(f"绩效目标最多 {projects.MAX_TARGETS} 个")
        self.targets = [*self.targets, {"uid": secrets.token_hex(4), "indicator": "", "unit": "", "direction": "≥",
                                        "target_value": "", "weight": "0"}]

    @rx.event
    @guarded("project.edit")
    async def remove_target(self, ctx: UserContext, uid: str):
        uid = args.as_text(uid, "目标", 16)
        self.targets = [t for t in self.targets if t["uid"] != uid]

    @rx.event
    @guarded("project.edit")
    async def save_targets(self, ctx: UserContext, form_data: dict):
        if not self.editable:
            raise ValidationError("当前状态不能修改项目")
        data = args.form(form_data)
        targets = []
        for n, t in enumerate(self.targets, start=1):
            u = t["uid"]
            targets.append({
                "indicator": args.field(data, f"{u}_indicator", f"第{n}个指标名称", 128),
                "unit": args.field(data, f"{u}_unit", f"第{n}个计量单位", 16),
                "direction": args.as_choice(data.get(f"{u}_direction") or "≥", projects.DIRECTIONS, "方向"),
                "target_value": args.field(data, f"{u}_value", f"第{n}个目标值", 64),
                "weight": args.field(data, f"{u}_weight", f"第{n}个权重", 3) or "0",
            })
        await asyncio.to_thread(projects.set_targets, ctx, self.pid, targets)
        self._show(await asyncio.to_thread(projects.get_project, ctx, self.pid))
        return rx.toast.success("绩效目标已保存")

    # ---- attachments ----

    @rx.event
    @guarded("project.edit")
    async def upload(self, ctx: UserContext, files: list[rx.UploadFile]):
        if not isinstance(files, list) or not files or len(files) > 5:
            raise ValidationError("请选择 1 至 5 个文件")
        limit = get_settings().max_upload_bytes
        for f in files:
            if f.size is not None and f.size > limit:
                raise ValidationError(f"附件过大：不能超过 {limit // (1024 * 1024)} MB")
        batch = []  # read every file first; the service stores them all or none
        for f in files:
            data = await asyncio.to_thread(f.file.read, limit + 1)
            batch.append((str(f.name or "")[:200], data))
        await asyncio.to_thread(projects.add_attachments, ctx, self.pid, batch)
        self._show(await asyncio.to_thread(projects.get_project, ctx, self.pid))
        return [rx.clear_selected_files(ATTACH_ID), rx.toast.success("附件已上传")]

    @rx.event
    @guarded("project.view")
    async def download(self, ctx: UserContext, attachment_id: str):
        aid = args.offered_id(attachment_id, self._attachment_ids, "附件", "附件不存在")
        filename, data = await asyncio.to_thread(projects.read_attachment, ctx, aid)
        return rx.download(data=data, filename=filename)

    @rx.event
    @guarded("project.edit")
    async def remove_attachment(self, ctx: UserContext, attachment_id: str):
        aid = args.offered_id(attachment_id, self._attachment_ids, "附件", "附件不存在")
        await asyncio.to_thread(projects.delete_attachment, ctx, aid)
        self._show(await asyncio.to_thread(projects.get_project, ctx, self.pid))

    # ---- life cycle ----

    @rx.event
    @guarded("project.view")
    async def open_action(self, ctx: UserContext, action: str):
        action = args.as_choice(action, self._actions, "操作")
        self.action, self.action_label = action, str(self._actions[action]["label"])
        self.action_needs_comment = bool(self._actions[action].get("needs_comment"))

    @rx.event
    @guarded("project.view")
    async def close_action(self, ctx: UserContext):
        self.action = ""

    @rx.event
    @guarded("project.view")
    async def do_action(self, ctx: UserContext, form_data: dict):
        action = args.as_choice(self.action, self._actions, "操作")
        comment = args.field(args.form(form_data), "comment", "意见", 500, required=self.action_needs_comment)
        label = self.action_label
        self._show(await asyncio.to_thread(projects.transition, ctx, self.pid, action, comment))
        self.action = ""
        return rx.toast.success(f"已{label}")

    @rx.event
    @guarded("project.edit")
    async def ask_delete(self, ctx: UserContext):
        self.delete_open = True

    @rx.event
    @guarded("project.edit")
    async def cancel_delete(self, ctx: UserContext):
        self.delete_open = False

    @rx.event
    @guarded("project.edit")
    async def confirm_delete(self, ctx: UserContext):
        await asyncio.to_thread(projects.delete_project, ctx, self.pid)
        self.delete_open = False
        return [rx.toast.success("项目已删除"), rx.redirect(routes.PROJECTS)]


# ------------------------------------------------------------------ layout

def _parent_finder(S: type[ProjectsState] | type[ProjectDetailState]) -> rx.Component:
    """Finds 上级项目 by code or name on the server (its own form: forms do not nest)."""
    return rx.form(rx.hstack(
        rx.input(name="parent_q", placeholder="按编码或名称查找上级项目", max_length=projects.MAX_PARENT_SEARCH,
                 width="16em", size="1", id="project-parent-search"),
        rx.button("查找", type="submit", size="1", variant="soft", id="project-parent-find"),
        rx.cond(S.parent_more, rx.text(f"仅列出前 {projects.MAX_PARENT_CHOICES} 个，请输入关键字查找", size="1",
                                       color=rx.color("gray", 11))),
        align="center", spacing="2"), on_submit=S.search_parents, reset_on_submit=False, margin_bottom="0.75em")


def _fields(values: rx.Var | None, parents: rx.Var, parent_key: rx.Var,
            read_only: rx.Var | bool = False) -> rx.Component:
    """The project form fields; `values` None = empty (new project); `parents` the 一级 projects offered."""
    def v(key: str, default: str = ""):
        return values[key] if values is not None else default

    year = str(current_fiscal_year() + 1)
    return rx.vstack(
        rx.hstack(
            labelled("项目名称", rx.input(name="name", default_value=v("name"), max_length=128, width="24em",
                                          id="project-name", read_only=read_only)),
            labelled("项目编码（空＝自动生成）" if values is None else "项目编码",
                     rx.input(name="code", default_value=v("code"), max_length=32, width="16em",
                              read_only=read_only, id="project-code")),
            labelled("上级项目", rx.select.root(
                rx.select.trigger(width="20em", id="project-parent"),
                rx.select.content(rx.select.item("无（一级项目）", value="0"),
                                  rx.foreach(parents, lambda o: rx.select.item(o["label"], value=o["id"]))),
                name="parent_id", default_value=v("parent_id", "0"), disabled=read_only,
                key=parent_key.to_string())),
            style=tokens.TOOLBAR,
        ),
        rx.hstack(
            labelled("项目类别", rx.select.root(
                rx.select.trigger(width="14em", id="project-category"),
                rx.select.content(*[rx.select.item(label, value=k) for k, label in projects.CATEGORIES.items()]),
                name="category", default_value=v("category", "3"), disabled=read_only)),
            labelled("性质", rx.select(list(projects.KINDS), name="kind", default_value=v("kind", "新增"),
                                       disabled=read_only)),
            labelled("开始年度", rx.input(name="start_year", default_value=v("start_year", year), max_length=4,
                                          width="6em", read_only=read_only, id="project-start")),
            labelled("结束年度", rx.input(name="end_year", default_value=v("end_year", year), max_length=4,
                                          width="6em", read_only=read_only, id="project-end")),
            labelled("项目总额（元）", rx.input(name="total", default_value=v("total_yuan"), max_length=32, width="11em",
                                               style=tokens.AMOUNT_INPUT, read_only=read_only, id="project-total")),
            labelled("功能分类科目", rx.input(name="func_code", default_value=v("func_code"), max_length=16,
                                              width="9em", read_only=read_only, id="project-func")),
            labelled("负责人", rx.input(name="owner", default_value=v("owner"), max_length=64, width="8em",
                                        read_only=read_only, id="project-owner")),
            style=tokens.TOOLBAR,
        ),
        labelled("项目说明", rx.text_area(name="description", default_value=v("description"), max_length=2000,
                                          rows="3", width="48em", read_only=read_only, id="project-description")),
        spacing="3",
    )


def _list_row(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r["code"]),
        rx.table.cell(rx.link(r["name"], href=routes.PROJECTS + "/" + r["id"])),
        rx.table.cell(r["org_name"]), rx.table.cell(r["category_label"]), rx.table.cell(r["kind"]),
        rx.table.cell(r["years"]), money_cell(r["total"]), rx.table.cell(status_badge(r["status"])),
        rx.table.cell(r["step_org_name"]),
    )


@app_page(routes.PROJECTS, "项目库", "project.view", menu="folder-kanban", on_load=ProjectsState.load)
def projects_page() -> rx.Component:
    S = ProjectsState
    return rx.vstack(
        rx.hstack(
            rx.form(rx.hstack(
                rx.select.root(rx.select.trigger(placeholder="全部状态"), rx.select.content(
                    rx.select.item("全部状态", value="all"),
                    *[rx.select.item(s, value=s) for s in flows.PROJECT_STATES]), name="status"),
                rx.input(name="q", placeholder="编码或名称", max_length=64, id="project-search"),
                rx.button("查询", type="submit"), spacing="2"), on_submit=S.search, reset_on_submit=False),
            rx.cond(S.can_create, rx.button("新建项目", on_click=S.open_create, id="new-project")),
            rx.spacer(),
            unit_switch(S.unit, S.choose_unit),
            align="center", width="100%", spacing="3",
        ),
        row_table(("编码", "名称", "单位", "类别", "性质", "年度", "总额", "状态", "当前审核"), S.rows, _list_row, "projects-table", size="2"),
        pager(S.page_label, S.prev_page, S.next_page),
        rx.dialog.root(rx.dialog.content(
            rx.dialog.title("新建项目"),
            _parent_finder(S),
            rx.form(rx.vstack(
                _fields(None, S.parent_choices, S.parent_key),
                rx.hstack(rx.button("保存", type="submit", id="create-project"),
                          rx.button("取消", type="button", variant="soft", color_scheme="gray",
                                    on_click=S.close_create), spacing="2"),
                spacing="4"), on_submit=S.create, reset_on_submit=False),
            max_width="60em",
        ), open=S.create_open),
        spacing="3", width="100%",
    )


def _target_row(t: rx.Var) -> rx.Component:
    D = ProjectDetailState
    ro = ~D.editable
    return rx.table.row(
        rx.table.cell(rx.input(name=t["uid"] + "_indicator", default_value=t["indicator"], max_length=128,
                               width="18em", read_only=ro, class_name="target-indicator")),
        rx.table.cell(rx.input(name=t["uid"] + "_unit", default_value=t["unit"], max_length=16, width="5em",
                               read_only=ro)),
        rx.table.cell(rx.select(list(projects.DIRECTIONS), name=t["uid"] + "_direction",
                                default_value=t["direction"], disabled=ro)),
        rx.table.cell(rx.input(name=t["uid"] + "_value", default_value=t["target_value"], max_length=64,
                               width="8em", read_only=ro, class_name="target-value")),
        rx.table.cell(rx.input(name=t["uid"] + "_weight", default_value=t["weight"], max_length=3, width="4em",
                               read_only=ro, class_name="target-weight")),
        rx.table.cell(rx.cond(D.editable, rx.icon_button(rx.icon("x", size=14), size="1", variant="ghost",
                                                          type="button", on_click=D.remove_target(t["uid"])))),
        key=t["uid"],
    )


@app_page(routes.PROJECT, "项目详情", "project.view", on_load=ProjectDetailState.load)
def project_detail_page() -> rx.Component:
    D = ProjectDetailState
    p = D.project
    return rx.vstack(
        rx.hstack(
            rx.link("← 项目库", href=routes.PROJECTS, size="2"),
            rx.heading(p["code"], " ", p["name"], size="4", id="project-title"),
            status_badge(p["status"], id="project-status"),
            rx.cond(p["step_org_name"] != "", rx.text("当前审核：", p["step_org_name"], size="2")),
            align="center", spacing="3", wrap="wrap",
        ),
        rx.cond(p["last_comment"] != "", rx.callout(p["last_comment"], icon="message-square", color_scheme="orange",
                                                   size="1", id="project-comment")),
        rx.hstack(
            rx.foreach(D.actions, lambda a: rx.button(a["label"], on_click=D.open_action(a["action"]),
                                                      id="project-action-" + a["action"])),
            rx.cond(D.editable, rx.button("删除项目", color_scheme="red", variant="soft", on_click=D.ask_delete)),
            style=tokens.TOOLBAR,
        ),
        rx.box(rx.cond(D.editable, _parent_finder(D)), rx.form(rx.vstack(
            _fields(p, D.parent_choices, D.parent_key, read_only=~D.editable),
            rx.cond(D.editable, rx.button("保存项目", type="submit", id="save-project")),
            spacing="3"), on_submit=D.save, reset_on_submit=False, key=D.form_key.to_string()), style=tokens.PANEL),
        rx.box(rx.form(rx.vstack(
            rx.hstack(rx.heading("绩效目标", size="3"), rx.cond(D.editable, rx.button(
                "添加目标", size="1", variant="soft", type="button", on_click=D.add_target, id="add-target")),
                align="center", spacing="3"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("指标名称", "计量单位", "方向", "目标值", "权重（分）", "")])),
                rx.table.body(rx.foreach(D.targets, _target_row)),
                size="1", id="targets-table",
            ),
            rx.cond(D.editable, rx.button("保存绩效目标", type="submit", id="save-targets")),
            spacing="3"), on_submit=D.save_targets, reset_on_submit=False, key=D.form_key.to_string()),
            style=tokens.PANEL, width="100%"),
        rx.box(rx.vstack(
            rx.heading("附件", size="3"),
            rx.table.root(
                rx.table.body(rx.foreach(D.attachments, lambda a: rx.table.row(
                    rx.table.cell(rx.link(a["filename"], on_click=D.download(a["id"]), cursor="pointer")),
                    rx.table.cell(a["size"]), rx.table.cell(a["uploaded_by"]), rx.table.cell(a["uploaded_at"]),
                    rx.table.cell(rx.cond(D.editable, rx.icon_button(
                        rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red",
                        on_click=D.remove_attachment(a["id"]))))))),
                size="1"),
            rx.cond(D.editable, rx.hstack(
                rx.upload(rx.text("选择附件（PDF、Word、Excel、图片、ZIP，单个不超过 10 MB）", size="2"), id=ATTACH_ID,
                          max_files=5, max_size=get_settings().max_upload_bytes,
                          border=f"1px dashed {rx.color('gray', 7)}", padding="0.6em"),
                rx.text(rx.selected_files(ATTACH_ID).join("、"), size="2"),
                rx.button("上传", variant="soft", on_click=D.upload(rx.upload_files(upload_id=ATTACH_ID))),
                align="center", spacing="3")),
            spacing="2"), style=tokens.PANEL, width="100%"),
        rx.dialog.root(rx.dialog.content(
            rx.dialog.title(D.action_label),
            rx.form(rx.vstack(
                rx.text(rx.cond(D.action_needs_comment, "意见（必填）", "意见（可选）"), size="2"),
                rx.text_area(name="comment", max_length=500, rows="3", width="100%", id="project-action-comment"),
                rx.hstack(rx.button("确定", type="submit", id="project-action-confirm"),
                          rx.button("取消", type="button", variant="soft", color_scheme="gray",
                                    on_click=D.close_action), spacing="2"),
                spacing="3"), on_submit=D.do_action, reset_on_submit=False),
        ), open=D.action != ""),
        rx.alert_dialog.root(rx.alert_dialog.content(
            rx.alert_dialog.title("删除项目"),
            rx.alert_dialog.description("确定删除该项目？只有草稿且未被预算使用的项目可以删除。"),
            rx.hstack(rx.button("取消", variant="soft", color_scheme="gray", on_click=D.cancel_delete),
                      rx.button("删除", color_scheme="red", on_click=D.confirm_delete), spacing="2", justify="end",
                      margin_top="1em"),
        ), open=D.delete_open),
        spacing="4", width="100%",
    )
