"""Form pieces for the admin pages: uncontrolled inputs (IME-safe) and selects fed by option lists."""

import reflex as rx


def field(label: str, child: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), child, spacing="1")


def text_input(name: str, label: str, *, default=None, element_id: str | None = None, width: str = "12em",
               **props) -> rx.Component:
    """An uncontrolled input; `default` (a Var) refills it when the form's key changes."""
    extra = {"default_value": default} if default is not None else {}
    return field(label, rx.input(name=name, id=element_id or f"f-{name}", width=width, **extra, **props))


def option_select(name: str, label: str, options: rx.Var, *, default=None, element_id: str | None = None,
                  placeholder: str = "请选择", width: str = "14em") -> rx.Component:
    """A select over [{"id", "name"}] options; submits the chosen id under `name`."""
    extra = {"default_value": default} if default is not None else {}
    return field(label, rx.select.root(
        rx.select.trigger(placeholder=placeholder, width=width, id=element_id or f"f-{name}"),
        rx.select.content(rx.foreach(options, lambda o: rx.select.item(o["name"], value=o["id"]))),
        name=name, **extra,
    ))


def fixed_select(name: str, label: str, choices: list[tuple[str, str]], *, default=None,
                 element_id: str | None = None, width: str = "10em") -> rx.Component:
    """A select over fixed (value, label) pairs."""
    extra = {"default_value": default} if default is not None else {}
    return field(label, rx.select.root(
        rx.select.trigger(placeholder="请选择", width=width, id=element_id or f"f-{name}"),
        rx.select.content(*[rx.select.item(text, value=value) for value, text in choices]),
        name=name, **extra,
    ))


def hidden(name: str, value: rx.Var) -> rx.Component:
    return rx.el.input(type="hidden", name=name, value=value)


def notice(message: rx.Var, element_id: str, color: str = "green") -> rx.Component:
    return rx.cond(message != "", rx.callout(message, color_scheme=color, id=element_id, width="100%"))
