"""Domain services: every write goes through here, in one transaction, with an audit entry.

Services never import reflex.
"""
