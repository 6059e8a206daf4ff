"""安全策略 (安全管理员): password, lockout and session rules, within safe bounds."""

import asyncio

import reflex as rx

from components.forms import text_input
from hbbudget import routes
from hbbudget.pages.shell.base import app_page
from hbbudget.services.security import policy
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded


class SecurityState(rx.State):
    values: dict[str, str] = {name: "" for name in policy.BOUNDS}
    version: int = 0  # remounts the uncontrolled form after a load or a save

    @rx.event
    @guarded("admin.security")
    async def load(self, ctx: UserContext):
        data = await asyncio.to_thread(policy.view, ctx)
        self.values = {k: str(v) for k, v in data["values"].items()}
        self.version += 1

    @rx.event
    @guarded("admin.security")
    async def save(self, ctx: UserContext, form_data: dict):
        saved = await asyncio.to_thread(policy.update, ctx, args.form(form_data))
        self.values = {k: str(getattr(saved, k)) for k in policy.BOUNDS}
        self.version += 1
        return rx.toast.success("安全策略已保存，立即生效")


def _input(name: str) -> rx.Component:
    label, low, high = policy.BOUNDS[name]
    return text_input(name, f"{label}（{low}–{high}）", default=SecurityState.values[name], width="8em",
                      element_id=f"policy-{name}")


@app_page(routes.SECURITY, "安全策略", "admin.security", menu="lock", on_load=SecurityState.load)
def security_page() -> rx.Component:
    return rx.vstack(
        rx.form(
            rx.vstack(
                rx.heading("密码", size="3"),
                rx.hstack(*[_input(n) for n in ("min_length", "min_classes", "expiry_days", "history_count")],
                          spacing="4", wrap="wrap"),
                rx.heading("登录与会话", size="3"),
                rx.hstack(*[_input(n) for n in ("max_failed_logins", "lockout_minutes", "idle_timeout_minutes",
                                                "session_lifetime_hours", "inactive_days")],
                          spacing="4", wrap="wrap"),
                rx.button("保存", type="submit", id="save-policy"),
                spacing="3",
            ),
            on_submit=SecurityState.save, key=SecurityState.version,
        ),
        rx.text("取值范围由系统限定（等保二级）；未保存过时使用部署时的环境变量默认值。", size="1", color_scheme="gray"),
        spacing="4", width="100%",
    )
