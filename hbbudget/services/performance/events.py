"""Audit event names of the performance module (绩效评价)."""

EVENTS = {
    "evaluation.open": "开始绩效自评",
    "evaluation.save": "保存绩效自评",
    "evaluation.override": "人工调整绩效得分",
    "evaluation.submit": "提交绩效自评",
    "evaluation.confirm": "复核确认绩效自评",
    "evaluation.return": "退回绩效自评",
    "evaluation.export": "导出绩效自评表",
    "evaluation.correct": "更正绩效自评总分（超过 100 分）",
    "monitor.save": "保存绩效监控",
    "monitor.submit": "提交绩效监控",
    "monitor.return": "退回绩效监控",
    "perf_setting.save": "保存绩效设置",
    "perf_checkpoint.save": "保存双监控节点",
    "indicator.save": "保存绩效指标",
    "indicator.retire": "停用绩效指标",
    "indicator.import": "导入绩效指标库",
    "indicator.export": "导出绩效指标库",
    "indicator.load": "载入通用绩效指标库",
}
