"""A lease row per job group: with several backend processes only the holder runs the jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from hbbudget.clock import now
from hbbudget.db import session_scope
from hbbudget.models import JobLease


def acquire(name: str, holder: str, ttl_seconds: int) -> bool:
    """Take or renew the lease atomically: UPDATE … WHERE expired OR mine; insert when there is no row."""
    current = now()
    expires = current + timedelta(seconds=ttl_seconds)
    with session_scope() as session:
        taken = session.execute(
            update(JobLease).where(JobLease.name == name,
                                   or_(JobLease.expires_at < current, JobLease.holder == holder))
            .values(holder=holder, expires_at=expires)
        ).rowcount
        if taken:
            return True
        if session.get(JobLease, name) is not None:
            return False
    try:
        with session_scope() as session:
            session.add(JobLease(name=name, holder=holder, expires_at=expires))
        return True
    except IntegrityError:  # another process inserted it first
        return False


def release(name: str, holder: str) -> None:
    with session_scope() as session:
        session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                        .values(expires_at=now() - timedelta(seconds=1)))
