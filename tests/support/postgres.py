"""A fresh PostgreSQL database per test session, on the server scripts/test.sh started.

DSHUB_TEST_POSTGRES holds that server's URL (loopback, a password of the run's own). Without
it the session hub uses SQLite, as a default installation does.
"""

from __future__ import annotations

import os
import secrets

import psycopg
from sqlalchemy.engine import make_url

ENV = "DSHUB_TEST_POSTGRES"


def server_url() -> str:
    """The run's PostgreSQL server (`postgresql://user:pw@127.0.0.1:port/postgres`), or ""."""
    return os.environ.get(ENV, "")


def create_database() -> str:
    """Create an empty database named dshubtest_<random>; return its SQLAlchemy URL."""
    url = make_url(server_url())
    name = f"dshubtest_{secrets.token_hex(4)}"
    with psycopg.connect(_dsn(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False)


def drop_database(db_url: str) -> None:
    url = make_url(db_url)
    with psycopg.connect(_dsn(make_url(server_url())), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def _dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)
