"""Reusable UI pieces that know no page."""
