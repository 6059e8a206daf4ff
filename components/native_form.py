"""A plain HTML form that the browser itself posts to an HTTP route (login, logout): Reflex's form always
prevents the browser's submit and sends an event over the websocket instead, so its submit trigger is removed."""

import reflex as rx


def native_form(*children: rx.Component, action: str, **props) -> rx.Component:
    form = rx.el.form(*children, action=action, method="post", **props)
    form.event_triggers.pop("on_submit", None)  # no handleSubmit: the browser posts the form
    return form
