"""One Settings object, read from HBB_* environment variables with safe defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    return os.environ.get(f"HBB_{name}", default)


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"环境变量 HBB_{name} 必须是整数，当前值为 {raw!r}") from exc


def _bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    var_dir: Path = field(default_factory=lambda: Path(_env("VAR_DIR", str(ROOT / "var"))))
    database_url: str = ""
    port: int = field(default_factory=lambda: _int("PORT", 3000))
    backend_port: int = field(default_factory=lambda: _int("BACKEND_PORT", 8000))
    demo_mode: bool = field(default_factory=lambda: _bool("DEMO", False))
    idle_timeout_minutes: int = field(default_factory=lambda: _int("IDLE_TIMEOUT_MINUTES", 30))
    session_lifetime_hours: int = field(default_factory=lambda: _int("SESSION_LIFETIME_HOURS", 12))
    max_failed_logins: int = field(default_factory=lambda: _int("MAX_FAILED_LOGINS", 5))
    lockout_minutes: int = field(default_factory=lambda: _int("LOCKOUT_MINUTES", 15))
    # Defaults of the security policy (the security admin may change them in the app, within bounds).
    password_min_length: int = field(default_factory=lambda: _int("PASSWORD_MIN_LENGTH", 8))
    password_min_classes: int = field(default_factory=lambda: _int("PASSWORD_MIN_CLASSES", 3))
    password_expiry_days: int = field(default_factory=lambda: _int("PASSWORD_EXPIRY_DAYS", 90))
    password_history: int = field(default_factory=lambda: _int("PASSWORD_HISTORY", 5))
    inactive_days: int = field(default_factory=lambda: _int("INACTIVE_DAYS", 90))
    scheduler: bool = field(default_factory=lambda: _bool("SCHEDULER", True))
    # the scheduler lease (jobs.py): another process takes the jobs over this long after the holder died
    lease_ttl_seconds: int = field(default_factory=lambda: max(3, _int("LEASE_TTL", 180)))
    cookie_secure: bool = field(default_factory=lambda: _bool("COOKIE_SECURE", False))
    allowed_origins: tuple[str, ...] = field(
        default_factory=lambda: tuple(o for o in _env("ALLOWED_ORIGINS", "").split(",") if o)
    )
    max_upload_bytes: int = field(default_factory=lambda: _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024))
    fiscal_year: int = field(default_factory=lambda: _int("FISCAL_YEAR", 0))
    # Bank gateway (issue 4): the simulator in demo mode; poll every 10 s in demo, else every 5 minutes.
    bank_url: str = field(default_factory=lambda: _env("BANK_URL", "http://127.0.0.1:8701"))
    bank_poll_seconds: int = field(default_factory=lambda: max(1, _int("BANK_POLL_SECONDS",
                                                                      10 if _bool("DEMO", False) else 300)))
    bank_timeout_seconds: int = field(default_factory=lambda: max(1, _int("BANK_TIMEOUT_SECONDS", 10)))
    # Finance cloud (财政云, issue 16): the simulator (`hbbudget sim --fincloud`) in demo and tests.
    fincloud_url: str = field(default_factory=lambda: _env("FINCLOUD_URL", "http://127.0.0.1:8703"))
    fincloud_timeout_seconds: int = field(default_factory=lambda: max(1, _int("FINCLOUD_TIMEOUT_SECONDS", 10)))
    fincloud_export_seconds: int = field(default_factory=lambda: max(60, _int("FINCLOUD_EXPORT_SECONDS", 3600)))
    # Evidence (存证) service (issue 16): the simulator (`hbbudget sim --evidence`) in demo and tests; pin its key.
    evidence_url: str = field(default_factory=lambda: _env("EVIDENCE_URL", "http://127.0.0.1:8704"))
    evidence_timeout_seconds: int = field(default_factory=lambda: max(1, _int("EVIDENCE_TIMEOUT_SECONDS", 10)))
    evidence_public_key: str = field(default_factory=lambda: _env("EVIDENCE_PUBLIC_KEY", ""))
    # E-invoice verification platform (issue 16): the simulator (`hbbudget sim --invoice`) in demo and tests.
    invoice_url: str = field(default_factory=lambda: _env("INVOICE_URL", "http://127.0.0.1:8702"))
    invoice_timeout_seconds: int = field(default_factory=lambda: max(1, _int("INVOICE_TIMEOUT_SECONDS", 10)))
    # OA approvals (issue 15): instances sent and outcomes polled every 15 s in demo, else every 2 minutes.
    oa_poll_seconds: int = field(default_factory=lambda: max(1, _int("OA_POLL_SECONDS",
                                                                    15 if _bool("DEMO", False) else 120)))
    alert_unmatched_days: int = field(default_factory=lambda: max(1, _int("ALERT_UNMATCHED_DAYS", 7)))
    # 接口状态 history: sync runs older than this are deleted nightly (each account's last run is kept).
    sync_run_keep_days: int = field(default_factory=lambda: max(30, _int("SYNC_RUN_KEEP_DAYS", 180)))

    def __post_init__(self) -> None:
        if not self.database_url:
            url = _env("DATABASE_URL", "") or f"sqlite:///{self.var_dir / 'hbbudget.db'}"
            object.__setattr__(self, "database_url", url)

    @property
    def origins(self) -> list[str]:
        """CORS: the app's own origin(s) only."""
        if self.allowed_origins:
            return list(self.allowed_origins)
        return [f"http://localhost:{self.port}", f"http://127.0.0.1:{self.port}"]


def get_settings() -> Settings:
    """The settings of the current HBB_* environment (tests change it; built once per distinct environment)."""
    return _settings_for(tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("HBB_"))))


@lru_cache(maxsize=32)
def _settings_for(env: tuple) -> Settings:
    return Settings()
