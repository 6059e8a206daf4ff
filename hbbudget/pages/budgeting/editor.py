"""预算编辑: one budget's lines, one server page at a time, edited in place.

The state holds one page of display rows (text, in chunks of ROW_CHUNK rows so a save re-sends only the chunk
of its row) and, in backend vars, the same page as the service returned it (ids and row versions: a client can
only name a line of the page it was shown, and the expected version always comes from the server). Every save
returns the fresh row, totals, subtotals and rule results, so the grid, the subtotals and the rule panel change
in the same event.

This module: the layout and the page. The grid's state is in editor_state.py; each dialog has a state of its own
(editor_pickers, editor_plan, editor_excel, editor_actions, editor_template, editor_versions), reaching the grid
with `get_state`; the dialogs' layout is in editor_dialogs.py.
"""

import reflex as rx

from components import tokens
from components.table import pager
from components.widgets import (
    edit_input,
    grid_keys_script,
    labelled,
    money_cell,
    money_text,
    rule_panel,
    status_badge,
    unit_switch,
)
from hbbudget import routes
from hbbudget.pages.budgeting.editor_actions import EditorActionState, EditorTransferState
from hbbudget.pages.budgeting.editor_dialogs import (
    action_dialog,
    delete_dialog,
    import_dialog,
    picker_dialog,
    plan_dialog,
    project_dialog,
    template_dialog,
    transfer_dialog,
)
from hbbudget.pages.budgeting.editor_excel import EditorImportState
from hbbudget.pages.budgeting.editor_pickers import EditorCodeState, EditorProjectState
from hbbudget.pages.budgeting.editor_plan import EditorPlanState
from hbbudget.pages.budgeting.editor_state import ROW_VARS, BudgetEditorState, BudgetFeed
from hbbudget.pages.budgeting.editor_template import EditorTemplateState
from hbbudget.pages.budgeting.editor_versions import EditorVersionsState
from hbbudget.pages.shell.base import app_page

S = BudgetEditorState
V = EditorVersionsState


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
            labelled("已存版本", rx.text(S.header["version_no"])),
            rx.cond(S.source_text != "", labelled("按资金来源", rx.text(S.source_text, size="2"))),
            spacing="6", wrap="wrap", align="end",
        ),
        rx.cond(S.header["last_comment"] != "",
                rx.callout(S.header["last_comment"], icon="message-square", color_scheme="orange",
                           id="budget-comment", size="1")),
        toolbar(actions=S.actions, editable=S.editable, can_adjust=S.can_adjust, can_transfer=S.can_transfer),
        spacing="3", width="100%",
    )


@rx.memo
def toolbar(actions: rx.Var[list[dict[str, str]]], editable: rx.Var[bool], can_adjust: rx.Var[bool],
            can_transfer: rx.Var[bool]) -> rx.Component:
    """The editor's buttons, memoized with what decides them as props (rendered again only when they change)."""
    return rx.hstack(
        rx.foreach(actions, lambda a: rx.button(a["label"], on_click=EditorActionState.open_action(a["action"]),
                                                id="action-" + a["action"])),
        rx.button("导出 Excel", variant="soft", on_click=EditorImportState.export_excel, id="export-excel"),
        rx.cond(editable, rx.button("导入 Excel", variant="soft", on_click=EditorImportState.open_import, id="open-import")),
        rx.cond(editable, rx.button("按模板添加", variant="soft", on_click=EditorTemplateState.open_template, id="open-template")),
        rx.cond(can_adjust, rx.button("发起调整", variant="soft", on_click=EditorActionState.start_adjustment("调整"))),
        rx.cond(can_adjust, rx.button("发起调剂", variant="soft", on_click=EditorActionState.start_adjustment("调剂"))),
        rx.cond(can_transfer, rx.button("行间调剂", variant="soft", on_click=EditorTransferState.open_transfer,
                                        id="open-transfer")),
        rx.button("重新校验", variant="soft", color_scheme="gray", on_click=S.recheck, id="recheck"),
        style=tokens.TOOLBAR,
    )


# The grid row and its cells are memoized React components (rx.memo) whose props are plain strings (and the page's
# editable flag and source list): React compares props and renders again only what changed. A save renders the
# saved row's changed cells, not the page's 50 rows; the 元/万元 switch renders each row's amount text only.
# (Without this every change of BudgetEditorState rendered every Radix component of every row.)

@rx.memo
def project_cell(row_id: rx.Var[str], project: rx.Var[str], editable: rx.Var[bool]) -> rx.Component:
    return rx.table.cell(rx.hstack(
        rx.text(project, size="2"),
        rx.cond(editable, rx.icon_button(rx.icon("search", size=14), size="1", variant="ghost", title="选择项目",
                                         on_click=EditorProjectState.open_project_picker(row_id),
                                         id="project-" + row_id)),
        spacing="1", align="center",
    ))


def _code_cell(row_id: rx.Var, row_key: rx.Var, code: rx.Var, name: rx.Var, editable: rx.Var,
               column: str) -> rx.Component:
    return rx.table.cell(
        rx.cond(
            editable,
            rx.vstack(
                rx.hstack(
                    edit_input(row_key, code, lambda v: S.save_code(row_id, column, v), width="6em",
                               max_length=7, element_id=f"{column}-" + row_id, grid_column=column),
                    rx.icon_button(rx.icon("search", size=14), size="1", variant="ghost",
                                   on_click=EditorCodeState.open_picker(column, row_id), title="查找科目"),
                    spacing="1", align="center",
                ),
                rx.text(name, size="1", color_scheme="gray"),
                spacing="0",
            ),
            rx.vstack(rx.text(code), rx.text(name, size="1", color_scheme="gray"), spacing="0"),
        ),
    )


@rx.memo
def econ_cell(row_id: rx.Var[str], row_key: rx.Var[str], code: rx.Var[str], name: rx.Var[str],
              editable: rx.Var[bool]) -> rx.Component:
    return _code_cell(row_id, row_key, code, name, editable, "econ")


@rx.memo
def func_cell(row_id: rx.Var[str], row_key: rx.Var[str], code: rx.Var[str], name: rx.Var[str],
              editable: rx.Var[bool]) -> rx.Component:
    return _code_cell(row_id, row_key, code, name, editable, "func")


@rx.memo
def source_cell(row_id: rx.Var[str], source: rx.Var[str], editable: rx.Var[bool],
                sources: rx.Var[list[str]]) -> rx.Component:
    return rx.table.cell(rx.cond(
        editable,
        rx.select(sources, value=source, on_change=lambda v: S.save_source(row_id, v), size="1"),
        rx.text(source),
    ))


@rx.memo
def amount_input(row_id: rx.Var[str], row_key: rx.Var[str], amount_yuan: rx.Var[str],
                 editable: rx.Var[bool]) -> rx.Component:
    return rx.cond(editable, edit_input(row_key, amount_yuan, lambda v: S.save_amount(row_id, v), amount=True,
                                        max_length=32, element_id="amount-" + row_id, grid_column="amount"))


@rx.memo
def amount_text(amount: rx.Var[str], editable: rx.Var[bool]) -> rx.Component:
    """The amount in the display unit: alone under the input when editable, else the cell's text."""
    return rx.cond(editable, money_text(amount, size="1", color_scheme="gray"), money_text(amount))


@rx.memo
def plan_cell(row_id: rx.Var[str], plan_ok: rx.Var[str]) -> rx.Component:
    return rx.table.cell(rx.button(rx.cond(plan_ok == "1", "已平衡", "不平衡"), size="1", variant="soft",
                                   color_scheme=rx.cond(plan_ok == "1", "gray", "red"), white_space="nowrap",
                                   on_click=EditorPlanState.open_plan(row_id), id="plan-" + row_id))


@rx.memo
def note_cell(row_id: rx.Var[str], row_key: rx.Var[str], note: rx.Var[str], editable: rx.Var[bool]) -> rx.Component:
    return rx.table.cell(rx.cond(
        editable,
        edit_input(row_key, note, lambda v: S.save_note(row_id, v), width="10em",
                   element_id="note-" + row_id, grid_column="note"),
        rx.text(note, size="2"),
    ))


@rx.memo
def tail_cells(row_id: rx.Var[str], updated: rx.Var[str], editable: rx.Var[bool]) -> rx.Component:
    return rx.fragment(
        rx.table.cell(rx.text(updated, size="1", color_scheme="gray")),
        rx.table.cell(rx.cond(editable, rx.hstack(
            rx.icon_button(rx.icon("copy", size=14), size="1", variant="ghost", title="复制",
                           on_click=S.copy_line(row_id)),
            rx.icon_button(rx.icon("trash-2", size=14), size="1", variant="ghost", color_scheme="red", title="删除",
                           on_click=S.ask_delete(row_id), id="delete-" + row_id),
            spacing="1",
        ))),
    )


@rx.memo
def grid_row(row_id: rx.Var[str], row_key: rx.Var[str], project: rx.Var[str], econ_code: rx.Var[str],
             econ_name: rx.Var[str], func_code: rx.Var[str], func_name: rx.Var[str], source: rx.Var[str],
             amount: rx.Var[str], amount_yuan: rx.Var[str], note: rx.Var[str], plan_ok: rx.Var[str],
             updated: rx.Var[str], flag: rx.Var[str], editable: rx.Var[bool],
             sources: rx.Var[list[str]]) -> rx.Component:
    """One grid row (see the comment above)."""
    return rx.table.row(
        project_cell(row_id=row_id, project=project, editable=editable),
        econ_cell(row_id=row_id, row_key=row_key, code=econ_code, name=econ_name, editable=editable),
        func_cell(row_id=row_id, row_key=row_key, code=func_code, name=func_name, editable=editable),
        source_cell(row_id=row_id, source=source, editable=editable, sources=sources),
        rx.table.cell(amount_input(row_id=row_id, row_key=row_key, amount_yuan=amount_yuan, editable=editable),
                      amount_text(amount=amount, editable=editable)),
        plan_cell(row_id=row_id, plan_ok=plan_ok),
        note_cell(row_id=row_id, row_key=row_key, note=note, editable=editable),
        tail_cells(row_id=row_id, updated=updated, editable=editable),
        style=rx.match(flag, ("error", tokens.ROW_ERROR), ("warning", tokens.ROW_WARNING), {}),
        id="line-" + row_id,
    )


def _grid_row(row: rx.Var) -> rx.Component:
    return grid_row(
        row_id=row["id"].to(str), row_key=row["key"].to(str), project=row["project"].to(str),
        econ_code=row["econ_code"].to(str), econ_name=row["econ_name"].to(str), func_code=row["func_code"].to(str),
        func_name=row["func_name"].to(str), source=row["source"].to(str), amount=row["amount"].to(str),
        amount_yuan=row["amount_yuan"].to(str), note=row["note"].to(str), plan_ok=row["plan_ok"].to(str),
        updated=row["updated"].to(str), flag=S.flags[row["id"]].to(str), editable=S.editable, sources=S.sources,
    )


def _grid() -> rx.Component:
    headers = ["项目", "经济分类", "功能分类", "资金来源", "金额（元）", "用款计划", "备注", "最后修改", ""]
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, white_space="nowrap") for h in headers])),
            rx.table.body(*[rx.foreach(getattr(S, name), _grid_row) for name in ROW_VARS]),
            variant="surface", size="1", width="100%", id="budget-grid",
        ),
        style=tokens.GRID_WRAP,
    )


@rx.memo
def new_line_form(project_label: rx.Var[str], econ: rx.Var[str], func: rx.Var[str], sources: rx.Var[list[str]],
                  form_key: rx.Var[int]) -> rx.Component:
    """The 新增一行 form. Memoized with its values as props (like the grid rows): a save or the 元/万元 switch
    does not render its inputs, selects and buttons again."""
    return rx.form(
        rx.hstack(
            labelled("项目", rx.button(project_label, rx.icon("search", size=14), type="button", variant="outline",
                                      color_scheme="gray", max_width="18em", on_click=EditorProjectState.open_project_picker("new"),
                                      id="new-line-project")),
            labelled("经济分类", rx.hstack(
                rx.input(name="econ_code", key=econ, default_value=econ, placeholder="如 30201",
                         max_length=7, width="7em", id="new-econ"),
                rx.icon_button(rx.icon("search", size=14), variant="soft", type="button",
                               on_click=EditorCodeState.open_picker("econ", "0"), id="pick-new-econ"),
                spacing="1")),
            labelled("功能分类", rx.hstack(
                rx.input(name="func_code", key=func, default_value=func, placeholder="如 2050305",
                         max_length=7, width="8em", id="new-func"),
                rx.icon_button(rx.icon("search", size=14), variant="soft", type="button",
                               on_click=EditorCodeState.open_picker("func", "0"), id="pick-new-func"),
                spacing="1")),
            labelled("资金来源", rx.select(sources, name="source", default_value="财政拨款", id="new-source")),
            labelled("金额（元）", rx.input(name="amount", placeholder="0.00", max_length=32, width="10em",
                                           id="new-amount", style=tokens.AMOUNT_INPUT)),
            labelled("备注", rx.input(name="note", max_length=200, width="12em", id="new-note")),
            rx.button("新增一行", type="submit", id="add-line"),
            align="end", style=tokens.TOOLBAR,
        ),
        on_submit=S.add_line, reset_on_submit=False, id="new-line-form", key=form_key,
    )


def _new_line_form() -> rx.Component:
    return new_line_form(project_label=S.new_project_label, econ=S.new_econ, func=S.new_func, sources=S.sources,
                         form_key=S.new_form_key)


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


def _others_notice() -> rx.Component:
    """Another user saved lines of this budget since this page was loaded (BudgetFeed, editor_state)."""
    return rx.cond((S.bid > 0) & (BudgetFeed.version != S.seen), rx.callout.root(
        rx.callout.icon(rx.icon("refresh-cw")),
        rx.callout.text("已被他人修改，请刷新后查看最新明细和合计", weight="bold", id="others-changed"),
        rx.button("刷新", size="1", on_click=S.refresh, id="refresh-lines"),
        color_scheme="blue", width="100%",
    ))


def _versions_tab() -> rx.Component:
    return rx.vstack(
        rx.button("刷新版本列表", variant="soft", size="1", on_click=V.load_versions),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("版本", "阶段", "事件", "时间", "操作人", "合计", "说明")])),
            rx.table.body(rx.foreach(V.versions, lambda v: rx.table.row(
                rx.table.cell(v["version_no"]), rx.table.cell(v["round"]), rx.table.cell(v["event"]),
                rx.table.cell(v["created_at"]), rx.table.cell(v["created_by"]), money_cell(v["total"]),
                rx.table.cell(v["reason"])))),
            size="1", width="100%", id="versions-table",
        ),
        rx.form(
            rx.hstack(
                rx.text("比较"),
                rx.select.root(rx.select.trigger(placeholder="选择版本"), rx.select.content(rx.foreach(
                    V.versions, lambda v: rx.select.item("第 " + v["version_no"] + " 版", value=v["version_no"]))),
                    name="from_version", default_value=V.from_default, key=V.from_default),
                rx.text("与"),
                rx.select.root(rx.select.trigger(placeholder="当前明细"), rx.select.content(
                    rx.select.item("当前明细", value="0"),
                    rx.foreach(V.versions, lambda v: rx.select.item("第 " + v["version_no"] + " 版",
                                                                    value=v["version_no"]))),
                    name="to_version", default_value="0"),
                rx.button("比较", type="submit", variant="soft"),
                align="center", spacing="2",
            ),
            on_submit=V.compare_versions, reset_on_submit=False,
        ),
        rx.cond(V.diff_summary != "", rx.text(V.diff_summary, weight="bold", id="diff-summary")),
        rx.cond(V.diff_rows.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("变化", "项目", "经济分类", "功能分类", "资金来源", "金额", "原金额", "变化字段")])),
            rx.table.body(rx.foreach(V.diff_rows, lambda d: rx.table.row(
                rx.table.cell(rx.badge(d["change"])), rx.table.cell(d["project_code"]), rx.table.cell(d["econ_code"]),
                rx.table.cell(d["func_code"]), rx.table.cell(d["source"]), money_cell(d["amount"]),
                money_cell(d["before"]), rx.table.cell(d["fields"])))),
            size="1", width="100%", id="diff-table")),
        spacing="3", width="100%",
    )


@app_page(routes.BUDGET_EDITOR, "预算编辑", "budget.view", on_load=BudgetEditorState.load)
def budget_editor_page() -> rx.Component:
    return rx.vstack(
        _header_bar(),
        rule_panel(S.rules, S.rule_summary),
        _conflict_notice(),
        _others_notice(),
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("明细", value="lines"), rx.tabs.trigger("分类小计", value="subtotals"),
                         rx.tabs.trigger("版本记录", value="versions", on_click=V.load_versions)),
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
        plan_dialog(), picker_dialog(), delete_dialog(), action_dialog(), import_dialog(), template_dialog(),
        project_dialog(), transfer_dialog(), grid_keys_script(),
        spacing="4", width="100%",
    )
