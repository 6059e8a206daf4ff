"""Leaf widgets of the budgeting pages: money, status, rules, editable cells. They know no page:
every value comes in as a Var, every action as an event handler."""

from collections.abc import Callable

import reflex as rx

from components import tokens

UNITS = {"yuan": "元", "wan": "万元"}

# status -> badge colour (projects and budgets share most words)
STATUS_COLORS = {
    "草稿": "gray", "已申报": "blue", "审核中": "blue", "退回": "orange", "已审核": "teal",
    "已入库": "green", "纳入预算": "green", "执行中": "cyan", "已完成": "grass", "已终止": "red",
    "已批复": "green", "启用": "green", "停用": "gray", "冲突": "red",
}


def money_cell(text: rx.Var, **props) -> rx.Component:
    """A right-aligned amount already formatted on the server (¥1,234.56 or 0.12 万元)."""
    return rx.table.cell(rx.text(text, style=tokens.NUM), **props)


def money_text(text: rx.Var, **props) -> rx.Component:
    return rx.text(text, style=tokens.NUM, **props)


def unit_switch(value: rx.Var, on_change: Callable, element_id: str = "unit-switch") -> rx.Component:
    """元 / 万元: the page formats its amounts again on the server."""
    return rx.segmented_control.root(
        *[rx.segmented_control.item(label, value=key) for key, label in UNITS.items()],
        value=value, on_change=on_change, size="1", id=element_id,
    )


def status_badge(status: rx.Var, **props) -> rx.Component:
    return rx.badge(
        status,
        color_scheme=rx.match(status, *[(k, v) for k, v in STATUS_COLORS.items()], "gray"),
        variant="soft", **props,
    )


def severity_badge(severity: rx.Var, label: rx.Var) -> rx.Component:
    return rx.badge(label, color_scheme=rx.cond(severity == "error", "red", "amber"), variant="solid", size="1")


@rx.memo
def rule_item(ok: rx.Var[str], severity: rx.Var[str], severity_label: rx.Var[str], name: rx.Var[str],
              message: rx.Var[str], lines: rx.Var[str]) -> rx.Component:
    """One rule's result. Memoized with plain-string props: a change elsewhere on the page (a saved amount, the
    元/万元 switch) does not render the icons and badges of rules whose result did not change."""
    return rx.hstack(
        rx.cond(ok == "1",
                rx.icon("circle-check", color=rx.color("green", 9), size=16),
                rx.icon("circle-alert", color=rx.cond(severity == "error", rx.color("red", 9),
                                                      rx.color("amber", 9)), size=16)),
        rx.cond(ok == "1", rx.badge(severity_label, color_scheme="green", variant="soft", size="1"),
                severity_badge(severity, severity_label)),
        rx.text(name, weight="bold", size="2"),
        rx.text(message, size="2"),
        rx.cond(lines != "", rx.text("涉及行已标色", size="1", color_scheme="gray")),
        align="center", spacing="2", wrap="wrap",
    )


def _rule_item(rule: rx.Var) -> rx.Component:
    return rule_item(ok=rule["ok"].to(str), severity=rule["severity"].to(str),
                     severity_label=rule["severity_label"].to(str), name=rule["name"].to(str),
                     message=rule["message"].to(str), lines=rule["lines"].to(str))


def rule_panel(rules: rx.Var, summary: rx.Var, element_id: str = "rule-panel") -> rx.Component:
    """Results of services.rules.check_budget; failed rules first (ordered by the page state)."""
    return rx.box(
        rx.hstack(rx.icon("list-checks", size=18), rx.text("校验结果", weight="bold"),
                  rx.text(summary, size="2", color_scheme="gray", id=element_id + "-summary"),
                  align="center", spacing="2"),
        rx.vstack(rx.foreach(rules, _rule_item), spacing="1", margin_top="0.4em"),
        style=tokens.PANEL, id=element_id, width="100%",
    )


def edit_input(row_key: rx.Var, value: rx.Var, on_blur: Callable, *, width: str = "8em", amount: bool = False,
               placeholder: str = "", max_length: int = 200, element_id: rx.Var | str | None = None,
               grid_column: str = "") -> rx.Component:
    """An uncontrolled cell input (safe for Chinese IME: `default_value`, saved on blur). With `grid_column`,
    Enter saves and moves to the same column of the next row and Esc restores the stored value
    (assets/grid_keys.js, loaded by the page that uses it: GRID_KEYS_SCRIPT).

    Its React key is `row_key` (line id + the row version last loaded from the server) plus the stored value, so
    it remounts showing what is stored when a conflict or a reload brings another version of the row (unsaved
    text is dropped), and when its own save stores a normalized value; a save of another cell of the row leaves
    it alone (text being typed there is kept)."""
    props = {"id": element_id} if element_id is not None else {}
    if grid_column:  # Enter saves and moves down, Esc restores the stored value (assets/grid_keys.js)
        props["custom_attrs"] = {"data-grid-col": grid_column}
    return rx.input(
        key=row_key + ":" + value, default_value=value, on_blur=on_blur, size="1", max_length=max_length,
        placeholder=placeholder, style=tokens.AMOUNT_INPUT if amount else {"width": width}, **props,
    )


def grid_keys_script() -> rx.Component:
    """The keyboard behaviour of `edit_input(..., grid_column=...)` cells (a file under assets/, no inline code)."""
    return rx.script(src="/grid_keys.js")


def labelled(label: str, child: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), child, spacing="1")


def section(title: str, *children: rx.Component, **props) -> rx.Component:
    return rx.vstack(rx.heading(title, size="3"), *children, spacing="2", width="100%", **props)
