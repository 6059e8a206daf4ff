"""Audit event names of the demo data."""

EVENTS = {"demo.seed": "载入演示数据"}
