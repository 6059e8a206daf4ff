"""Adapters to external systems: clients and parsers that return plain records, never touching the database."""
