"""Owns the store's tables: every row the portal keeps, declared once on the store's `Base`.

The broadcasts and group changes (`database.py`), the event log (`audit`), per-group limits and
the idle-culling policy (`governance`) keep their rows here, below every part that uses them:
importing this module gives the whole schema that the migrations must produce (for the
`alembic` command's autogenerate, and the test that compares).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class BroadcastRow(Base):
    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    message: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    auto_close: Mapped[int | None] = mapped_column(Integer, nullable=True)  # seconds; None: never
    recipients: Mapped[str] = mapped_column(Text)  # JSON: {"all": true} or {"users": [], ...}
    results: Mapped[str] = mapped_column(Text)  # JSON: [{"user", "ok", "reason"}]


class MembershipChangeRow(Base):
    __tablename__ = "membership_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    group: Mapped[str] = mapped_column(String(255))
    user: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))  # added | removed | group re-created


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(255), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(255), index=True)  # a user, a group, "all", ...
    detail: Mapped[str] = mapped_column(Text)
    ok: Mapped[bool] = mapped_column(Boolean)


class GroupLimitRow(Base):
    __tablename__ = "group_limits"
    group: Mapped[str] = mapped_column(String(255), primary_key=True)
    memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bytes; 0: no limit
    cpus: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0: no limit
    # Named servers a member may have; None: the default (NAMED_SERVERS_MAX).
    servers: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CullPolicyRow(Base):
    __tablename__ = "cull_policy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # one row: 1
    idle_after: Mapped[float] = mapped_column(Float)
    warning: Mapped[float] = mapped_column(Float)
    keep_max: Mapped[float] = mapped_column(Float)
    exempt: Mapped[str] = mapped_column(Text)  # group names, comma-separated


class AccountStateRow(Base):
    """An account an admin disabled, or whose password an admin reset (it must choose a new one
    at its next sign-in). `owner_key` names the hub account (its id and creation time): a later
    account of the same name is not this one."""

    __tablename__ = "account_states"
    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner_key: Mapped[str] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean)
    must_change_password: Mapped[bool] = mapped_column(Boolean)
    changed: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(255))


class EmailAddressRow(Base):
    """An account's own email address (portal/auth/email_addresses.py); `owner_key` names the
    hub account, as in account states."""

    __tablename__ = "email_addresses"
    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner_key: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(254))
    changed: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UsageRollupRow(Base):
    """What one user's server used in one hour (`period` "hour"), UTC day ("day") or calendar
    month ("month", `start` its first day): portal/insights. Each write adds to all three;
    hourly rows go after USAGE_HOURLY_DAYS."""

    __tablename__ = "usage_rollups"
    __table_args__ = (
        UniqueConstraint("user", "server", "period", "start", name="uq_usage_rollups_period"),
        # Covering the reports over days (every figure they sum is in it: no table lookups).
        Index("ix_usage_rollups_days", "period", "day", "user", "lab_seconds", "cpu_seconds",
              "memory_gib_hours", "memory_peak", "gpu_seconds"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(255))
    server: Mapped[str] = mapped_column(String(255))  # "" is the default server
    period: Mapped[str] = mapped_column(String(8))  # hour | day | month
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # UTC
    day: Mapped[date] = mapped_column(Date)  # UTC day of `start`
    lab_seconds: Mapped[float] = mapped_column(Float)
    cpu_seconds: Mapped[float] = mapped_column(Float)
    memory_gib_hours: Mapped[float] = mapped_column(Float)
    memory_peak: Mapped[int] = mapped_column(BigInteger)  # bytes
    memory_limit: Mapped[int] = mapped_column(BigInteger)  # bytes; 0: none
    storage: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bytes at the end
    volumes: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON {key: bytes}
    gpu_seconds: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    environment: Mapped[str | None] = mapped_column(String(255), nullable=True)  # none yet


class UsageTotalRow(Base):
    """Everyone's usage in one hour or UTC day (portal/insights): the sums of that period's
    rollup rows and the users who ran a lab in it, kept by each write, so a report's charts
    read a row per day instead of a row per user and day."""

    __tablename__ = "usage_totals"
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # hour | day
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)  # UTC
    lab_seconds: Mapped[float] = mapped_column(Float)
    cpu_seconds: Mapped[float] = mapped_column(Float)
    memory_gib_hours: Mapped[float] = mapped_column(Float)
    memory_peak: Mapped[int] = mapped_column(BigInteger)  # bytes, the highest of one lab
    gpu_seconds: Mapped[float] = mapped_column(Float)
    active_users: Mapped[int] = mapped_column(Integer)  # users with lab time in the period


class GroupQuotaRow(Base):
    """A group's quotas per member (portal/insights/quotas.py): storage, soft (a warning), and
    lab hours per calendar month (UTC; Start is refused past it)."""

    __tablename__ = "group_quotas"
    group: Mapped[str] = mapped_column(String(255), primary_key=True)
    storage: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bytes
    lab_hours: Mapped[float | None] = mapped_column(Float, nullable=True)  # per month


class TwoFactorRow(Base):
    """An account's two-factor sign-in: its TOTP secret, the last time step a code was accepted
    for (no code works twice) and its unused recovery codes (SHA-256 hex digests, by commas).
    `owner_key` names the hub account, as in account_states."""

    __tablename__ = "two_factor"
    user: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner_key: Mapped[str] = mapped_column(String(64))
    secret: Mapped[str] = mapped_column(String(255))  # "fernet:" + token (auth/secret_box.py)
    last_step: Mapped[int] = mapped_column(BigInteger)
    recovery: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountPolicyRow(Base):
    """The admins' account rules (one row, id 1): two-factor sign-in required for everyone who
    holds host power; days without activity after which an account is disabled (0: never)."""

    __tablename__ = "account_policy"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    require_2fa_host_power: Mapped[bool] = mapped_column(Boolean)
    dormant_disable_days: Mapped[int] = mapped_column(Integer)
    changed: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(255))


class EnvironmentRow(Base):
    """An environment admins defined (portal/governance/environments.py): what a lab starts
    from (image, default limits, GPU, variables) and who may choose it."""

    __tablename__ = "environments"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    image: Mapped[str] = mapped_column(String(255))
    memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # bytes; None: none
    cpus: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: no limit of its own
    gpu: Mapped[bool] = mapped_column(Boolean)
    variables: Mapped[str] = mapped_column(Text)  # JSON {name: value}
    groups: Mapped[str] = mapped_column(Text)  # JSON [group names]; []: everyone
    changed: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(255))


def metadata() -> MetaData:
    """Every table of the store, as the models declare them today."""
    return Base.metadata
