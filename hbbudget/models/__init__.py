"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from .audit import AuditEntry
from .auth import LoginSession, Role, RoleDefaultOffered, RolePermission, User, UserRole
from .budget import Budget, BudgetLine, BudgetSetting, BudgetVersion, ControlNumber
from .execution import BankAccount, BankTransaction, CounterpartyRule, Expenditure, SyncRun
from .exec_alert import DataVersion, ExecAlert, ProjectAlertSetting
from .notification import Notification
from .org import Org, Region
from .project import Project, ProjectAttachment, ProjectTarget
from .rule import Rule
from .security import AuditCheckpoint, JobLease, PasswordHistory, SecurityAlert, SecurityPolicy
from .subject import EconomicSubject, EconomicMapping, FunctionSubject
from .template import CategoryTemplate, CategoryTemplateItem

__all__ = [
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
