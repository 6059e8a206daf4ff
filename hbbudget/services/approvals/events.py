"""Audit event names of the approvals module (审批流与三重一大、OA)."""

EVENTS = {
    "oa.config": "配置 OA 对接",
    "oa.outcome": "OA 审批结果",
    "oa.callback_rejected": "OA 回调被拒绝",
    "oa.unknown": "OA 未知实例",
    "oa.sync": "立即同步 OA",
    "approval.decision": "录入三重一大集体决策",
    "approval.major_export": "导出三重一大清单",
    "approval.major_mark": "标记重大事项",
    "approval.template": "保存审批流模板",
}
