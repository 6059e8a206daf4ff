"""Bank statements: ISO 20022 camt.052/053/054 XML and the paged JSON transaction API (银企直联)."""

from hbbudget.integrations.bank.camt import parse_camt
from hbbudget.integrations.bank.client import BankClient
from hbbudget.integrations.bank.jsonapi import parse_page
from hbbudget.integrations.bank.records import BankError, BankFormatError, Entry, Statement, to_json

__all__ = ["BankClient", "BankError", "BankFormatError", "Entry", "Statement", "parse_camt", "parse_page", "to_json"]
