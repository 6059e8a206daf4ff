"""A plain data table for one server-side page of rows, and a pager."""

from collections.abc import Callable

import reflex as rx


def data_table(columns: list[tuple[str, str]], rows: rx.Var, table_id: str) -> rx.Component:
    """`columns` are (header, key) pairs; `rows` a list[dict] var holding one page."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h, _ in columns])),
        rx.table.body(
            rx.foreach(rows, lambda row: rx.table.row(*[rx.table.cell(row[k]) for _, k in columns]))
        ),
        variant="surface",
        size="1",
        width="100%",
        id=table_id,
    )


def pager(label: rx.Var, on_prev: Callable, on_next: Callable) -> rx.Component:
    return rx.hstack(
        rx.button("上一页", on_click=on_prev, variant="soft", size="1"),
        rx.text(label, size="2"),
        rx.button("下一页", on_click=on_next, variant="soft", size="1"),
        align="center",
    )
