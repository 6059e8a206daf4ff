"""Audit event names of the analysis module (数据分析)."""

EVENTS = {
    "report.export": "导出报表",
    "report.snapshot": "生成报表快照",
    "report.definition_save": "保存报表定义",
    "report.definition_delete": "删除报表定义",
}
