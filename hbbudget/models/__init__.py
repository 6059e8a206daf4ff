"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from .audit import AuditEntry
from .auth import LoginSession, Role, RolePermission, User, UserRole
from .org import Org, Region
from .subject import EconomicSubject, EconomicMapping, FunctionSubject

__all__ = [
    "AuditEntry",
    "EconomicMapping",
    "EconomicSubject",
    "FunctionSubject",
    "LoginSession",
    "Org",
    "Region",
    "Role",
    "RolePermission",
    "User",
    "UserRole",
]
