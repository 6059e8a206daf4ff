"""项目库: the project list (one page at a time, new project) and one project's page (fields, 绩效目标,
attachments, declare / review actions). This module: the layout; the states are in projects_state.py."""

import reflex as rx

from components import tokens
from components.table import pager, row_table
from components.widgets import labelled, money_cell, status_badge, unit_switch
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages.budgeting.projects_state import ATTACH_ID, ProjectDetailState, ProjectsState
from hbbudget.pages.shell.base import app_page
from hbbudget.services.budgeting import flows, projects
from hbbudget.settings import get_settings


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
        rx.table.cell(r["step_org_name"]), rx.table.cell(r["grade"], class_name="project-grade"),
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
        row_table(("编码", "名称", "单位", "类别", "性质", "年度", "总额", "状态", "当前审核", "上年绩效"), S.rows, _list_row,
                  "projects-table", size="2"),
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
                               width="18em", read_only=ro, class_name="target-indicator"),
                      rx.cond(t["indicator_id"] != "", rx.text(t["level1"] + " / " + t["level2"], size="1",
                                                                color_scheme="gray"),
                              rx.hstack(rx.text("自定义", size="1", color_scheme="gray"),
                                        rx.select(["产出", "效益", "满意度", "成本"], name=t["uid"] + "_level1",
                                                  default_value=t["level1"], disabled=ro, size="1",
                                                  placeholder="一级指标"), align="center"))),
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
    from hbbudget.pages.performance.target_picker import picker_button, picker_dialog  # it reads this page's state

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
            rx.hstack(rx.heading("绩效目标", size="3"), rx.cond(D.editable, rx.hstack(picker_button(), rx.button(
                "添加自定义目标", size="1", variant="soft", type="button", on_click=D.add_target, id="add-target"))),
                align="center", spacing="3"),
            picker_dialog(),
            rx.text("各目标权重加预算执行率权重（默认 10 分）合计 100 分，自评总分也按 100 分计。", size="1",
                    color_scheme="gray"),
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
