"""Audit event names of the core module (orgs, reference data, subjects)."""

EVENTS = {
    "org.create": "新增单位", "org.update": "修改单位", "org.move": "移动单位", "org.enable": "启用单位",
    "org.disable": "停用单位", "reference.load": "载入参考数据", "subjects.import": "导入科目",
}
