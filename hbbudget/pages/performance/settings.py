"""绩效设置 /perf-settings: for one org where the user holds performance.review, the 一级 weights (产出/效益/满意度/
预算执行率), required dimensions, grade bands, "=" tolerance and the 双监控 lag points, and the year's checkpoints;
each shown with where it comes from (本单位, 继承, 默认); saved values are inherited by the subtree.
Services: performance.settings."""

from __future__ import annotations

import asyncio

import reflex as rx

from components import tokens
from components.widgets import labelled
from hbbudget import routes
from hbbudget.clock import current_fiscal_year
from hbbudget.pages.shell.base import app_page
from hbbudget.services.errors import ValidationError
from hbbudget.services.performance import settings
from hbbudget.services.security.permissions import UserContext
from state import args
from state.guard import guarded

PERMISSION = settings.PERMISSION
REQUIRED = (("req_output", "产出"), ("req_benefit", "效益"), ("req_satisfaction", "满意度"), ("req_cost", "成本"))
NUMBERS = {"output": "产出权重", "benefit": "效益权重", "satisfaction": "满意度权重", "exec": "预算执行率权重",
           "excellent": "“优”分数线", "good": "“良”分数线", "fair": "“中”分数线", "tolerance": "等于型指标容差",
           "lag_points": "执行进度偏差阈值"}


class PerfSettingsState(rx.State):
    orgs: list[dict[str, str]] = []
    org_id: str = ""
    year: str = ""
    values: dict[str, str] = {}
    required: list[str] = []
    checkpoints: list[dict[str, str]] = []
    form_key: int = 0
    _org_ids: list[int] = []

    def _show(self, d: dict) -> None:
        self.values = {**{k: str(v) for k, v in d["weights"].items()}, **{k: str(v) for k, v in d["bands"].items()},
                       "tolerance": str(d["tolerance"]), "lag_points": str(d["lag_points"]),
                       "setting_source": d["setting_source"], "checkpoint_source": d["checkpoint_source"]}
        self.required = list(d["required"])
        cps = d["checkpoints"]
        self.checkpoints = [{k: str(v) for k, v in c.items()} for c in cps]
        for n in (1, 2):
            c = next((c for c in cps if c["seq"] == n), None)
            self.values[f"m{n}"] = str(c["through_month"]) if c else ""
            self.values[f"d{n}"] = c["due"] if c else ""
        self.form_key += 1

    def _org(self) -> int:
        if not self.org_id:
            raise ValidationError("请先选择单位")
        return args.offered_id(self.org_id, self._org_ids, "单位", "该单位不在可选范围内")

    @rx.event
    @guarded(PERMISSION)
    async def load(self, ctx: UserContext):
        self.year = self.year or str(current_fiscal_year())
        orgs = await asyncio.to_thread(settings.orgs, ctx)
        self._org_ids = [o["id"] for o in orgs]
        self.orgs = [{"id": str(o["id"]), "name": o["name"]} for o in orgs]
        if not orgs:
            self.org_id, self.values = "", {}
            return
        own = ctx.org_id if ctx.org_id in self._org_ids else orgs[0]["id"]
        self.org_id = self.org_id if self.org_id and int(self.org_id) in self._org_ids else str(own)
        self._show(await asyncio.to_thread(settings.show, ctx, int(self.org_id), int(self.year)))

    @rx.event
    @guarded(PERMISSION)
    async def choose_org(self, ctx: UserContext, org_id: str):
        oid = args.offered_id(org_id, self._org_ids, "单位", "该单位不在可选范围内")
        self._show(await asyncio.to_thread(settings.show, ctx, oid, int(self.year or current_fiscal_year())))
        self.org_id = str(oid)

    @rx.event
    @guarded(PERMISSION)
    async def choose_year(self, ctx: UserContext, year: str):
        y = args.as_year(year)
        self._show(await asyncio.to_thread(settings.show, ctx, self._org(), y))
        self.year = str(y)

    @rx.event
    @guarded(PERMISSION)
    async def save_setting(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        values = {k: args.field(data, k, label, 8) for k, label in NUMBERS.items()}
        values["required"] = [dim for key, dim in REQUIRED if data.get(key) in ("on", True, "true")]
        self._show(await asyncio.to_thread(settings.save_setting, ctx, self._org(), values, int(self.year)))
        return rx.toast.success("绩效设置已保存，下级单位未单独设置的将继承")

    @rx.event
    @guarded(PERMISSION)
    async def save_checkpoints(self, ctx: UserContext, form_data: dict):
        data = args.form(form_data)
        rows = []
        for n in (1, 2):
            month, due = args.field(data, f"m{n}", "截止月份", 8), args.field(data, f"d{n}", "填报截止日", 10)
            if month or due:
                rows.append({"through_month": month, "due": due})
        self._show(await asyncio.to_thread(settings.save_checkpoints, ctx, self._org(), int(self.year), rows))
        return rx.toast.success("双监控节点已保存")


S = PerfSettingsState


def _number(key: str, label: str) -> rx.Component:
    return labelled(label, rx.input(name=key, default_value=S.values[key], width="5em", max_length=8,
                                    id=f"perf-{key.replace('_', '-')}"))


def _settings_form() -> rx.Component:
    return rx.form(rx.vstack(
        rx.hstack(rx.heading("一级指标权重（合计 100 分）", size="3"),
                  rx.badge(S.values["setting_source"], id="perf-setting-source"), align="center"),
        rx.hstack(_number("output", "产出"), _number("benefit", "效益"), _number("satisfaction", "满意度"),
                  _number("exec", "预算执行率"), style=tokens.TOOLBAR),
        rx.hstack(rx.text("必须填报的一级指标", size="2"),
                  *[rx.checkbox(dim, name=key, default_checked=S.required.contains(dim)) for key, dim in REQUIRED],
                  style=tokens.TOOLBAR),
        rx.heading("等级分数线与偏差阈值", size="3"),
        rx.hstack(_number("excellent", "优 ≥"), _number("good", "良 ≥"), _number("fair", "中 ≥"),
                  _number("tolerance", "等于型容差 %"), _number("lag_points", "执行进度偏差阈值（百分点）"),
                  style=tokens.TOOLBAR),
        rx.button("保存绩效设置", type="submit", id="perf-save-setting"),
        spacing="3", width="100%"), on_submit=S.save_setting, key=S.form_key.to_string(), reset_on_submit=False)


def _checkpoint_form() -> rx.Component:
    return rx.form(rx.vstack(
        rx.hstack(rx.heading("双监控节点", size="3"), rx.badge(S.values["checkpoint_source"], id="perf-cp-source"),
                  align="center"),
        rx.foreach(S.checkpoints, lambda c: rx.text(c["label"], size="2")),
        *[rx.hstack(rx.text(f"第{n}次：1 至", size="2"),
                    rx.input(name=f"m{n}", default_value=S.values[f"m{n}"], width="4em", max_length=8,
                             id=f"perf-m{n}"),
                    rx.text("月，填报截止日", size="2"),
                    rx.input(name=f"d{n}", default_value=S.values[f"d{n}"], width="9em", max_length=10,
                             placeholder="YYYY-MM-DD", id=f"perf-d{n}"), align="center") for n in (1, 2)],
        rx.text("两次都留空并保存：恢复继承上级单位（或默认 1–7 月、8 月 15 日前填报）。", size="1",
                color_scheme="gray"),
        rx.button("保存监控节点", type="submit", id="perf-save-checkpoints"),
        spacing="2", width="100%"), on_submit=S.save_checkpoints, key=S.form_key.to_string(),
        reset_on_submit=False)


@app_page(routes.PERF_SETTINGS, "绩效设置", PERMISSION, menu="sliders-horizontal", on_load=S.load)
def perf_settings_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text("单位"),
            rx.select.root(rx.select.trigger(placeholder="选择单位", width="18em"),
                           rx.select.content(rx.foreach(S.orgs, lambda o: rx.select.item(o["name"], value=o["id"]))),
                           value=S.org_id, on_change=S.choose_org, id="perf-org"),
            rx.text("年度"), rx.input(default_value=S.year, key=S.year, width="6em", on_blur=S.choose_year,
                                      id="perf-year"), style=tokens.TOOLBAR),
        rx.cond(S.values.contains("output"), rx.vstack(
            rx.box(_settings_form(), style=tokens.PANEL, width="100%"),
            rx.box(_checkpoint_form(), style=tokens.PANEL, width="100%"), spacing="3", width="100%"),
            rx.text("没有可设置的单位。")),
        spacing="3", width="100%")
