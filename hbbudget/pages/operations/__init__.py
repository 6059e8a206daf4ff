"""运维 pages (issue 17)."""
