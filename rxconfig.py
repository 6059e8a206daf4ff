"""Reflex configuration. The database is ours (hbbudget/db.py): no db_url here."""

import reflex as rx

from hbbudget.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="hbbudget",
    telemetry_enabled=False,
    frontend_port=_settings.port,
    backend_port=_settings.backend_port,
    cors_allowed_origins=_settings.origins,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="red", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
