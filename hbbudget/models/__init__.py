"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from hbbudget.models.analysis import ExpenditureMonth, ReportDefinition, ReportSnapshot
from hbbudget.models.approvals import (
    ApprovalAct,
    ApprovalRun,
    ApprovalTemplate,
    CollectiveDecision,
    OaCallbackSeen,
    OaConfig,
    OaInstance,
)
from hbbudget.models.audit import AuditEntry
from hbbudget.models.auth import LoginSession, Role, RoleDefaultOffered, RolePermission, User, UserRole
from hbbudget.models.budget import (
    Budget,
    BudgetLine,
    BudgetSetting,
    BudgetVersion,
    CarryOver,
    CarryOverLine,
    ControlNumber,
)
from hbbudget.models.exec_alert import DataVersion, ExecAlert, ProjectAlertSetting
from hbbudget.models.execution import BankAccount, BankTransaction, CounterpartyRule, Expenditure, SyncRun
from hbbudget.models.integrations import EvidenceAnchor, FincloudImport, FincloudRun, Invoice
from hbbudget.models.notification import Notification
from hbbudget.models.operations import FaqEntry, FaqVote, FeedbackTicket, HealthRecord
from hbbudget.models.org import Org, Region
from hbbudget.models.performance import (
    PerfCheckpoint,
    PerfEvaluation,
    PerfIndicator,
    PerfMonitor,
    PerfMonitorItem,
    PerfScore,
    PerfSetting,
)
from hbbudget.models.project import Project, ProjectAttachment, ProjectTarget
from hbbudget.models.rule import Rule
from hbbudget.models.security import AuditCheckpoint, JobLease, PasswordHistory, SecurityAlert, SecurityPolicy
from hbbudget.models.subject import EconomicMapping, EconomicSubject, FunctionSubject
from hbbudget.models.template import CategoryTemplate, CategoryTemplateItem

__all__ = [
    "CarryOver", "CarryOverLine",
    "EvidenceAnchor",
    "FincloudImport",
    "FincloudRun",
    "Invoice",
    "ApprovalAct", "ApprovalRun", "ApprovalTemplate", "CollectiveDecision", "OaCallbackSeen", "OaConfig", "OaInstance",
    "ExpenditureMonth",
    "ReportDefinition",
    "ReportSnapshot",
    "FaqEntry",
    "FaqVote",
    "FeedbackTicket",
    "HealthRecord",
    "BankAccount",
    "BankTransaction",
    "CounterpartyRule",
    "Expenditure",
    "SyncRun",
    "DataVersion",
    "ExecAlert",
    "ProjectAlertSetting",
    "AuditCheckpoint",
    "AuditEntry",
    "Budget",
    "BudgetLine",
    "BudgetSetting",
    "BudgetVersion",
    "CategoryTemplate",
    "CategoryTemplateItem",
    "ControlNumber",
    "EconomicMapping",
    "EconomicSubject",
    "FunctionSubject",
    "JobLease",
    "LoginSession",
    "Notification",
    "Org",
    "PasswordHistory",
    "PerfCheckpoint", "PerfEvaluation", "PerfIndicator", "PerfMonitor", "PerfMonitorItem", "PerfScore", "PerfSetting",
    "Project",
    "ProjectAttachment",
    "ProjectTarget",
    "Region",
    "Role",
    "RoleDefaultOffered", "RolePermission",
    "Rule",
    "SecurityAlert",
    "SecurityPolicy",
    "User",
    "UserRole",
]
