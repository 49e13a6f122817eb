"""Declarative base and the column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, ExecutionContext
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column; use an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType: Any = JSON().with_variant(JSONB(), "postgresql")


# The engine execution option that carries the clock: a callable giving the current aware moment.
# Intake puts its runtime's clock there (intake/clock.py `install_clock`); models never read the machine's.
CLOCK_OPTION = "intake_clock"


def utcnow(context: ExecutionContext) -> datetime:
    """A column's default (and `onupdate`) "now": the clock on the engine the row is written through.

    Time is an input: a test or the lifecycle simulation that moves the runtime's clock gets rows
    stamped with that time, never the machine's. An engine without a clock is a mistake, said loudly.
    """
    clock = context.execution_options.get(CLOCK_OPTION)
    if clock is None:
        raise RuntimeError(
            "this engine has no clock for column defaults: build it through intake's Runtime, or call "
            "intake.clock.install_clock(engine, clock)"
        )
    return clock().astimezone(UTC)  # type: ignore[no-any-return]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
