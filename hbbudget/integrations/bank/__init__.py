"""Bank statements: ISO 20022 camt.052/053/054 XML and the paged JSON transaction API (银企直联)."""

from .camt import parse_camt
from .client import BankClient
from .jsonapi import parse_page
from .records import BankError, BankFormatError, Entry, Statement, to_json

__all__ = ["BankClient", "BankError", "BankFormatError", "Entry", "Statement", "parse_camt", "parse_page", "to_json"]
