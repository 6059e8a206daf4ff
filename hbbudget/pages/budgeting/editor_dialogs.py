"""Dialogs of 预算编辑: monthly plan, code picker, project picker, delete confirmation, submit/approve/return,
Excel import, category template and 调剂 between lines. Each reads its own state (S is the grid)."""

import reflex as rx

from components import tokens
from components.widgets import labelled, money_cell
from hbbudget.pages.budgeting.editor_actions import EditorActionState as A
from hbbudget.pages.budgeting.editor_actions import EditorTransferState as T
from hbbudget.pages.budgeting.editor_excel import IMPORT_ID, MAX_IMPORT_BYTES
from hbbudget.pages.budgeting.editor_excel import EditorImportState as X
from hbbudget.pages.budgeting.editor_pickers import EditorCodeState as C
from hbbudget.pages.budgeting.editor_pickers import EditorProjectState as P
from hbbudget.pages.budgeting.editor_plan import EditorPlanState as M
from hbbudget.pages.budgeting.editor_state import BudgetEditorState as S
from hbbudget.pages.budgeting.editor_template import EditorTemplateState as TP


def plan_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("用款计划"),
        rx.text(M.plan_title, size="2"),
        rx.form(
            rx.vstack(
                rx.grid(rx.foreach(M.plan_months, lambda m: labelled(m["label"], rx.input(
                    name=m["name"], default_value=m["value"], key=M.plan_key + m["name"], max_length=32,
                    style=tokens.AMOUNT_INPUT, read_only=~S.editable))), columns="4", spacing="2"),
                rx.hstack(
                    rx.cond(S.editable, rx.button("保存计划", type="submit", id="save-plan")),
                    rx.cond(S.editable, rx.button("按金额平均分配", type="button", variant="soft",
                                                  on_click=M.spread_plan, id="spread-plan")),
                    rx.button("关闭", type="button", variant="soft", color_scheme="gray", on_click=M.close_plan),
                    spacing="2",
                ),
                spacing="3",
            ),
            on_submit=M.save_plan, reset_on_submit=False,
        ),
        max_width="44em",
    ), open=M.plan_open)


def picker_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(C.picker_title),
        rx.form(rx.hstack(rx.input(name="q", placeholder="编码或名称，如 302 或 办公", max_length=32, id="picker-q",
                                   width="20em"),
                          rx.button("查找", type="submit"), spacing="2"),
                on_submit=C.search_picker, reset_on_submit=False),
        rx.scroll_area(rx.vstack(rx.foreach(C.picker_options, lambda o: rx.button(
            rx.text(o["code"], weight="bold", style=tokens.NUM), rx.text(o["name"]),
            variant="ghost", width="100%", style={"justify_content": "flex-start"}, on_click=C.pick_code(o["code"]),
            id="pick-" + o["code"])), spacing="1", width="100%"), max_height="22em", margin_y="0.6em"),
        rx.cond(C.picker_options.length() == 0, rx.text("没有匹配的末级科目", color_scheme="gray")),
        rx.button("关闭", variant="soft", color_scheme="gray", on_click=C.close_picker),
        max_width="34em",
    ), open=C.picker_open)


def project_dialog() -> rx.Component:
    """Projects of the unit, searched on the server (first PICKER_SIZE by code; type to narrow)."""
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(P.project_title),
        rx.form(rx.hstack(rx.input(name="q", placeholder="项目编码或名称", max_length=64, id="project-q",
                                   width="20em"),
                          rx.button("查找", type="submit", id="project-search"), spacing="2"),
                on_submit=P.search_projects, reset_on_submit=False),
        rx.scroll_area(rx.vstack(rx.foreach(P.project_options, lambda o: rx.button(
            rx.text(o["label"]), variant="ghost", width="100%", role="option",
            style={"justify_content": "flex-start"}, on_click=P.pick_project(o["id"]), id="pick-project-" + o["id"])),
            spacing="1", width="100%", role="listbox"), max_height="22em", margin_y="0.6em"),
        rx.cond(P.project_options.length() <= 1, rx.text("没有匹配的项目", color_scheme="gray")),
        rx.button("关闭", variant="soft", color_scheme="gray", on_click=P.close_project_picker),
        max_width="36em",
    ), open=P.project_open)


def transfer_dialog() -> rx.Component:
    """调剂: move an amount from one line of the page to another (the total does not change)."""
    def line_select(name: str, placeholder: str) -> rx.Component:
        return rx.select.root(
            rx.select.trigger(placeholder=placeholder, width="100%", id="transfer-" + name),
            rx.select.content(rx.foreach(T.transfer_choices, lambda c: rx.select.item(c["label"], value=c["id"]))),
            name=name)

    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("行间调剂"),
        rx.text("从一行调出金额到另一行，合计不变；调出行的用款计划从 12 月往前扣减，调入行按月平均增加。"
                "可先筛选明细，列出所需的行。", size="2"),
        rx.form(rx.vstack(
            labelled("调出行", line_select("from_line", "选择调出行")),
            labelled("调入行", line_select("to_line", "选择调入行")),
            labelled("金额（元）", rx.input(name="amount", max_length=32, width="12em", style=tokens.AMOUNT_INPUT,
                                           id="transfer-amount")),
            labelled("调剂说明", rx.input(name="note", max_length=200, width="100%", id="transfer-note")),
            rx.hstack(rx.button("调剂", type="submit", id="transfer-confirm"),
                      rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=T.close_transfer),
                      spacing="2"),
            spacing="3", width="100%"), on_submit=T.do_transfer, reset_on_submit=False, key=T.transfer_key),
        max_width="44em",
    ), open=T.transfer_open)


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(rx.alert_dialog.content(
        rx.alert_dialog.title("删除明细"),
        rx.alert_dialog.description(rx.text("确定删除：", S.delete_label, "？")),
        rx.hstack(
            rx.button("取消", variant="soft", color_scheme="gray", on_click=S.cancel_delete),
            rx.button("删除", color_scheme="red", on_click=S.confirm_delete, id="confirm-delete"),
            spacing="2", justify="end", margin_top="1em",
        ),
    ), open=S.delete_id != "")


def action_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(A.action_label),
        rx.cond((A.action == "submit") & S.has_warnings,
                rx.callout("本预算存在警告，上报时须填写说明。", color_scheme="amber", size="1")),
        rx.cond((A.action == "submit") & S.has_errors,
                rx.callout("本预算存在错误，须先改正才能上报。", color_scheme="red", size="1")),
        rx.form(
            rx.vstack(
                rx.text(A.action_hint, size="2"),
                rx.text_area(name="comment", max_length=500, rows="4", width="100%", id="action-comment"),
                rx.hstack(
                    rx.button("确定", type="submit", id="action-confirm"),
                    rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=A.close_action),
                    spacing="2",
                ),
                spacing="3",
            ),
            on_submit=A.do_action, reset_on_submit=False,
        ),
    ), open=A.action != "")


def import_dialog() -> rx.Component:
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
            rx.button("预览", variant="soft", on_click=X.preview_import(rx.upload_files(upload_id=IMPORT_ID)),
                      id="import-preview"),
            rx.button("确认导入", disabled=~X.import_ok, on_click=X.commit_import(rx.upload_files(upload_id=IMPORT_ID)),
                      id="import-commit"),
            rx.button("关闭", variant="soft", color_scheme="gray", on_click=X.close_import),
            spacing="2",
        ),
        rx.cond(X.import_summary != "", rx.text(X.import_summary, weight="bold", margin_top="0.6em",
                                                id="import-summary")),
        rx.cond(X.import_problems.length() > 0, rx.table.root(
            rx.table.header(rx.table.row(rx.table.column_header_cell("行"), rx.table.column_header_cell("列"),
                                         rx.table.column_header_cell("问题"))),
            rx.table.body(rx.foreach(X.import_problems, lambda p: rx.table.row(
                rx.table.cell(p["row"]), rx.table.cell(p["column"]), rx.table.cell(p["reason"])))),
            size="1", id="import-problems")),
        rx.cond(X.import_rows.length() > 0, rx.scroll_area(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                           ("项目", "经济分类", "功能分类", "资金来源", "金额")])),
            rx.table.body(rx.foreach(X.import_rows, lambda r: rx.table.row(
                rx.table.cell(r["project"]), rx.table.cell(r["econ_code"]), rx.table.cell(r["func_code"]),
                rx.table.cell(r["source"]), money_cell(r["amount"])))),
            size="1"), max_height="18em")),
        max_width="52em",
    ), open=X.import_open)


def template_dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("按分类模板添加"),
        rx.text("按模板比例把金额拆分到各经济分类科目，每个科目新增一行，拆分合计与金额一致。", size="2"),
        rx.form(rx.vstack(
            labelled("模板", rx.select.root(
                rx.select.trigger(placeholder="选择模板", width="20em"),
                rx.select.content(rx.foreach(TP.template_choices, lambda t: rx.select.item(t["label"], value=t["id"]))),
                name="template_id")),
            labelled("项目", rx.button(TP.template_project_label, rx.icon("search", size=14), type="button",
                                      variant="outline", color_scheme="gray", max_width="20em",
                                      on_click=P.open_project_picker("template"), id="template-project")),
            rx.hstack(
                labelled("功能分类", rx.input(name="func_code", max_length=7, width="8em", placeholder="如 2050205")),
                labelled("资金来源", rx.select(S.sources, name="source", default_value="财政拨款")),
                labelled("金额（元）", rx.input(name="amount", max_length=32, width="10em", style=tokens.AMOUNT_INPUT)),
                style=tokens.TOOLBAR),
            rx.hstack(rx.button("添加", type="submit"),
                      rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=TP.close_template),
                      spacing="2"),
            spacing="3"), on_submit=TP.apply_template, reset_on_submit=False),
        max_width="40em",
    ), open=TP.template_open)
