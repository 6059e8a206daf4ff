"""预算审核: what waits for me (budgets and projects), my subordinates' budgets, the consolidated view with
drill-down to lines, and control numbers (一下) for the direct children. This module: the layout; the state
is in review_state.py."""

import reflex as rx

from components import tokens
from components.table import pager, row_table
from components.widgets import labelled, money_cell, status_badge, unit_switch
from hbbudget import routes
from hbbudget.pages.budgeting.review_state import BY, ReviewState
from hbbudget.pages.shell.base import app_page

S = ReviewState


def _pending_tab() -> rx.Component:
    return rx.vstack(
        rx.heading("待审核预算", size="3"),
        row_table(("单位", "年度", "阶段", "状态", "合计", "行数", "上报版本", ""), S.pending, lambda r: rx.table.row(
                rx.table.cell(rx.link(r["org_name"], href=routes.BUDGETS + "/" + r["id"])),
                rx.table.cell(r["fiscal_year"]), rx.table.cell(r["round"]), rx.table.cell(status_badge(r["status"])),
                money_cell(r["total"]), rx.table.cell(r["line_count"]), rx.table.cell(r["version_no"]),
                rx.table.cell(rx.hstack(
                    rx.link(rx.button("查看明细", size="1", variant="soft"), href=routes.BUDGETS + "/" + r["id"]),
                    rx.button("通过", size="1", color_scheme="green", on_click=S.open_dialog("budget", "approve", r["id"]),
                              id="approve-budget-" + r["id"]),
                    rx.button("退回", size="1", color_scheme="orange", on_click=S.open_dialog("budget", "return", r["id"]),
                              id="return-budget-" + r["id"]),
                    spacing="2")),
                id="pending-budget-" + r["id"]), "pending-budgets"),
        rx.cond(S.pending.length() == 0, rx.text("没有待审核的预算", color_scheme="gray")),
        rx.heading("待审核项目", size="3", margin_top="1em"),
        row_table(("编码", "名称", "单位", "类别", "总额", "状态", ""), S.pending_projects, lambda r: rx.table.row(
                rx.table.cell(r["code"]),
                rx.table.cell(rx.link(r["name"], href=routes.PROJECTS + "/" + r["id"])),
                rx.table.cell(r["org_name"]), rx.table.cell(r["category_label"]), money_cell(r["total"]),
                rx.table.cell(status_badge(r["status"])),
                rx.table.cell(rx.hstack(
                    rx.button("通过", size="1", color_scheme="green",
                              on_click=S.open_dialog("project", "approve", r["id"]), id="approve-project-" + r["id"]),
                    rx.button("退回", size="1", color_scheme="orange",
                              on_click=S.open_dialog("project", "return", r["id"]), id="return-project-" + r["id"]),
                    spacing="2")),
                id="pending-project-" + r["id"]), "pending-projects"),
        rx.cond(S.pending_projects.length() == 0, rx.text("没有待审核的项目", color_scheme="gray")),
        spacing="2", width="100%",
    )


def _subs_tab() -> rx.Component:
    return rx.vstack(
        row_table(("单位", "上级", "阶段", "状态", "当前审核", "合计", "控制数", ""), S.subs, lambda r: rx.table.row(
                rx.table.cell(r["org_name"]), rx.table.cell(r["parent_name"]), rx.table.cell(r["round"]),
                rx.table.cell(status_badge(r["status"])), rx.table.cell(r["step_org_name"]),
                money_cell(r["total"], style=rx.cond(r["over"] == "1", {"color": rx.color("red", 11)}, {})),
                money_cell(r["control"]),
                rx.table.cell(rx.cond(r["budget_id"] != "0", rx.link(
                    rx.button("查看", size="1", variant="soft"), href=routes.BUDGETS + "/" + r["budget_id"]))),
            ), "subordinates-table"),
        pager(S.subs_label, S.subs_prev, S.subs_next),
        spacing="2", width="100%",
    )


def _cons_tab() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.segmented_control.root(*[rx.segmented_control.item(v, value=k) for k, v in BY.items()],
                                      value=S.by, on_change=S.choose_by, id="cons-by"),
            rx.text("合计：", rx.text.strong(S.cons_total, id="cons-total"), "（共 ", S.cons_units, " 个单位的预算）"),
            align="center", spacing="4",
        ),
        row_table(("编码", "名称", "合计", "行数", "单位数", ""), S.cons_rows, lambda r: rx.table.row(
                rx.table.cell(r["code"]), rx.table.cell(r["name"]), money_cell(r["total"]),
                rx.table.cell(r["count"]), rx.table.cell(r["units"]),
                rx.table.cell(rx.button("明细", size="1", variant="soft", on_click=S.drill(r["key"]))),
            ), "consolidated-table"),
        rx.cond(S.drill_title != "", rx.vstack(
            rx.heading(S.drill_title, size="3"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("单位", "项目", "经济分类", "功能分类", "资金来源", "金额", "备注")])),
                rx.table.body(rx.foreach(S.drill_rows, lambda r: rx.table.row(
                    rx.table.cell(r["org_name"]), rx.table.cell(r["project"]),
                    rx.table.cell(r["econ_code"] + " " + r["econ_name"]),
                    rx.table.cell(r["func_code"] + " " + r["func_name"]), rx.table.cell(r["source"]),
                    money_cell(r["amount"]), rx.table.cell(r["note"])))),
                size="1", width="100%", id="drill-table",
            ),
            pager(S.drill_label, S.drill_prev, S.drill_next),
            spacing="2", width="100%",
        )),
        spacing="3", width="100%",
    )


def _controls_tab() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("一下：向所选单位的直属下级单位下达控制数（元），确认后下达。下级一上审核通过后，下达控制数即转入二上编制。",
                    size="2"),
            rx.hstack(rx.text("下达单位", size="2"),
                      rx.select.root(rx.select.trigger(id="control-org"),
                                     rx.select.content(rx.foreach(S.control_orgs, lambda o: rx.select.item(
                                         o["name"], value=o["id"]))),
                                     value=S.control_org, on_change=S.choose_control_org),
                      align="center", spacing="2"),
            row_table(("单位", "已上报（控制数口径）", "状态", "已下达", "控制数（元）"), S.controls, lambda c: rx.table.row(
                    rx.table.cell(c["org_name"]), money_cell(c["total"]),
                    rx.table.cell(status_badge(c["status"])), money_cell(c["amount"]),
                    rx.table.cell(rx.input(name="c" + c["org_id"], default_value=c["amount_yuan"],
                                           key=S.control_key.to_string() + "-" + c["org_id"], max_length=32,
                                           style=tokens.AMOUNT_INPUT, id="control-" + c["org_id"])),
                ), "controls-table"),
            rx.button("下达控制数", type="submit", id="issue-controls"),
            _confirm_controls(),
            spacing="3", width="100%",
        ),
        on_submit=S.issue_controls, reset_on_submit=False,
    )


def _confirm_controls() -> rx.Component:
    """The changes 下达 would make, confirmed before anything is issued."""
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title("确认下达控制数"),
        rx.vstack(
            row_table(("单位", "原控制数", "新控制数", "已上报（控制数口径）"), S.confirm_rows, lambda c: rx.table.row(
                rx.table.cell(c["org_name"]), money_cell(c["before"]), money_cell(c["after"]),
                money_cell(c["total"])), "confirm-controls-table"),
            rx.hstack(rx.button("确认下达", type="button", on_click=S.confirm_controls, id="confirm-controls"),
                      rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=S.cancel_controls,
                                id="cancel-controls"),
                      spacing="2"),
            spacing="3",
        ),
    ), open=S.confirm_rows.length() > 0)


def _dialog() -> rx.Component:
    return rx.dialog.root(rx.dialog.content(
        rx.dialog.title(S.dialog_title),
        rx.form(
            rx.vstack(
                rx.text(rx.cond(S.dialog_action == "return", "退回原因（必填）", "审核意见（可选）"), size="2"),
                rx.text_area(name="comment", max_length=500, rows="4", width="100%", id="review-comment"),
                rx.hstack(rx.button("确定", type="submit", id="review-confirm"),
                          rx.button("取消", type="button", variant="soft", color_scheme="gray", on_click=S.close_dialog),
                          spacing="2"),
                spacing="3",
            ),
            on_submit=S.confirm_dialog, reset_on_submit=False,
        ),
    ), open=S.dialog_kind != "")


@app_page(routes.REVIEW, "预算审核", "budget.review", menu="clipboard-check", on_load=ReviewState.load)
def review_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            labelled("审核单位", rx.text(S.org_name, weight="bold")),
            labelled("预算年度", rx.select(S.years, value=S.year, on_change=S.choose_year, id="review-year")),
            rx.spacer(),
            unit_switch(S.unit, S.choose_unit),
            align="end", width="100%", spacing="5",
        ),
        rx.tabs.root(
            rx.tabs.list(rx.tabs.trigger("待我审核", value="pending", id="tab-pending"),
                         rx.tabs.trigger("下级预算", value="subs", id="tab-subs"),
                         rx.tabs.trigger("汇总", value="cons", id="tab-cons"),
                         rx.tabs.trigger("控制数", value="controls", id="tab-controls")),
            rx.box(rx.match(S.tab, ("subs", _subs_tab()), ("cons", _cons_tab()), ("controls", _controls_tab()),
                            _pending_tab()), padding_top="0.8em", width="100%"),
            value=S.tab, on_change=S.choose_tab, width="100%",
        ),
        _dialog(),
        spacing="4", width="100%",
    )
