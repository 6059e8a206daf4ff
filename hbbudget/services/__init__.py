"""Domain services: every write goes through here, in one transaction, with an audit entry.

Services never import reflex.
"""

from hbbudget.services.budgeting import reference  # noqa: F401  (registers the reference-version bump)
from hbbudget.services.security import access_version  # noqa: F401  (registers the access-version bump)
