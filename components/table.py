"""The shared tables: a plain data table of text cells, a table of rows drawn by a row function, and a pager."""

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


def row_table(heads: list[str] | tuple[str, ...], rows: rx.Var, row_fn: Callable[[rx.Var], rx.Component],
              table_id: str, size: str = "1") -> rx.Component:
    """Header cells `heads`, then one `row_fn(row)` (an rx.table.row) per item of the list var `rows`."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(rows, row_fn)),
        variant="surface", size=size, width="100%", id=table_id,
    )


def pager(label: rx.Var, on_prev: Callable, on_next: Callable) -> rx.Component:
    return rx.hstack(
        rx.button("上一页", on_click=on_prev, variant="soft", size="1"),
        rx.text(label, size="2"),
        rx.button("下一页", on_click=on_next, variant="soft", size="1"),
        align="center",
    )
