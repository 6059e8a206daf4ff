"""State of 项目库: the project list (one page at a time, the new-project dialog with its 上级项目 finder) and one
project's page (fields, 绩效目标, attachments, declare / review actions). Layout: projects.py."""

import asyncio
import secrets

import reflex as rx

from hbbudget import routes
from hbbudget.pages import display
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


LIBRARY_KEYS = ("level1", "level2", "indicator_id", "standard")  # a target's place in the indicator library


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
                         "target_value": str(t.get("target_value", "")), "weight": str(t.get("weight", 0)),
                         **{k: str(t.get(k) or "") for k in LIBRARY_KEYS}}
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
                                        "target_value": "", "weight": "0", **dict.fromkeys(LIBRARY_KEYS, "")}]

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
                **{k: t.get(k, "") for k in LIBRARY_KEYS},  # kept by the server, not the form
            })
            if not t.get("indicator_id"):  # a free (自定义) target: its 一级 from the form
                targets[-1].update(level1=args.field(data, f"{u}_level1", f"第{n}个一级指标", 8), level2="")
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
