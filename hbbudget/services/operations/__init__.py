"""运维: backup and restore, health checks (issue 17)."""
