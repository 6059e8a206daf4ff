"""Audit event names of the integrations module (财政云、电子发票、存证)."""

EVENTS = {
    "evidence.anchor": "存证",
    "fincloud.export": "财政云导出",
    "invoice.attach": "关联发票",
    "invoice.verify": "发票查验",
    "fincloud.fetch": "获取财政云指标",
    "fincloud.confirm": "确认应用财政云指标",
    "fincloud.reject": "拒绝财政云指标",
}
