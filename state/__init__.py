"""Reflex states shared across pages: the login session and the permission guard."""
