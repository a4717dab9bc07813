"""The portal's store gets its schema from its migrations, on first use and on its own thread:
created when empty, adopted when made before migrations, upgraded when versioned; its rows
intact, its version row beside the hub's. On SQLite files; tests/integration/
test_store_postgres.py runs the upgrade in place on PostgreSQL."""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text

import portal.store.migrations as migrations
from portal.store.database import PortalStore
from portal.store.migrations import FIRST, VERSION_TABLE, StoreSchemaError, head
from portal.store.tables import metadata
from tests.support.hub import ROOT
from tests.support.store_data import (
    LATER_TABLES,
    ROWS,
    contents,
    first_use,
    hub_database,
    schema_differences,
    store_at_first_revision,
    unversioned_store,
    version_rows,
)

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/portal.sqlite"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def store_log() -> Iterator[Records]:
    # On the store's logger itself: "JupyterHub" stops propagating once a hub app has run in
    # this process (in-process tests), so the root's capture would miss the line.
    logger = logging.getLogger("JupyterHub.portal.store")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def said(log: Records) -> list[str]:
    return [record.getMessage() for record in log.records]


async def test_an_empty_store_is_made_by_the_migrations_on_the_stores_thread(url, store_log):
    await first_use(url)
    assert said(store_log) == [f"Portal store: created at {head()}"]
    [record] = store_log.records
    assert record.threadName.startswith("portal-store")  # never the event loop's
    assert set(contents(url)) == set(ROWS)
    assert version_rows(url) == {VERSION_TABLE: [head()]}


async def test_a_store_from_before_migrations_is_stamped_then_upgraded_intact(url, store_log):
    unversioned_store(url)
    before = contents(url)
    store = await first_use(url)
    upgraded = "" if head() == FIRST else f", upgraded to {head()}"
    assert said(store_log) == [
        f"Portal store: tables from before migrations stamped at {FIRST}{upgraded}"]
    assert contents(url) == before
    assert version_rows(url) == {VERSION_TABLE: [head()]}
    [broadcast] = await store.broadcasts()
    assert broadcast.message == "Kept across upgrades" and broadcast.delivered == 1


async def test_a_store_of_a_build_with_fewer_tables_gets_the_missing_ones(url, store_log):
    unversioned_store(url, tables=("broadcasts", "membership_changes"))
    before = contents(url)
    store = await first_use(url)
    assert "stamped at" in said(store_log)[0]
    after = contents(url)
    assert set(after) == set(ROWS)
    assert {name: rows for name, rows in after.items() if name in before} == before
    assert [c.group for c in await store.membership_changes()] == ["docker-sock"]


async def test_a_versioned_store_is_upgraded_to_head_intact(url, store_log):
    store_at_first_revision(url)
    before = contents(url)
    await first_use(url)
    expected = (f"Portal store: at {FIRST}, nothing to upgrade" if head() == FIRST
                else f"Portal store: upgraded from {FIRST} to {head()}")
    assert said(store_log) == [expected]
    assert contents(url) == before
    assert version_rows(url) == {VERSION_TABLE: [head()]}


async def test_a_new_revision_runs_on_a_versioned_store(url, store_log, tmp_path, monkeypatch):
    """What the next real revision will do: a copy of the migrations with one more step."""
    copy = tmp_path / "migrations"
    shutil.copytree(migrations.HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "e0e0e0e0e0e0_test_only.py").write_text(
        '"""Owns a test step: a column only this test adds."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "e0e0e0e0e0e0"\ndown_revision = "{head()}"\n'
        "branch_labels = depends_on = None\n\n\n"
        "def upgrade():\n"
        '    with op.batch_alter_table("broadcasts") as table:\n'
        '        table.add_column(sa.Column("test_only", sa.Text(), nullable=True))\n')
    store_at_first_revision(url)
    before = contents(url)
    monkeypatch.setattr(migrations, "HERE", copy)
    await first_use(url)
    assert said(store_log) == [f"Portal store: upgraded from {FIRST} to e0e0e0e0e0e0"]
    assert contents(url) == before
    columns = [c["name"] for c in inspect(create_engine(url)).get_columns("broadcasts")]
    assert columns[-1] == "test_only"


async def test_a_store_shares_a_database_with_the_hub_and_both_version_rows_stay(url):
    hub_database(url)  # the hub's tables and its own alembic_version row
    hub_row = version_rows(url)["alembic_version"]
    assert hub_row and hub_row != [head()]
    unversioned_store(url)
    before = contents(url)
    await first_use(url)
    assert version_rows(url) == {"alembic_version": hub_row, VERSION_TABLE: [head()]}
    assert contents(url) == before
    hub_database(url)  # the hub starts again: it would raise if its row had changed
    assert version_rows(url) == {"alembic_version": hub_row, VERSION_TABLE: [head()]}


async def test_a_store_made_first_leaves_the_hub_an_empty_database_to_stamp(url):
    await first_use(url)
    hub_database(url)  # sees none of its tables: creates them and stamps its own row
    rows = version_rows(url)
    assert rows[VERSION_TABLE] == [head()] and rows["alembic_version"] != [head()]


def test_the_migrations_make_exactly_the_models_schema(url):
    engine = create_engine(url)
    migrations.upgrade_to_head(engine)
    engine.dispose()
    # A model changed without a revision: write one (docs/architecture.md says how).
    assert schema_differences(url) == []


def test_every_table_the_portal_declares_is_in_the_stores_models():
    declared = {name for path in (ROOT / "portal").rglob("*.py")
                for name in re.findall(r'__tablename__ = "(\w+)"', path.read_text())}
    assert declared == set(metadata().tables) == set(ROWS) | set(LATER_TABLES)


async def test_a_store_from_a_newer_release_is_refused_and_left_alone(url):
    await first_use(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'fffffff00000'"))
    engine.dispose()
    store = PortalStore(url)
    with pytest.raises(StoreSchemaError, match="fffffff00000.*does not know"):
        await store.broadcasts()
    assert version_rows(url) == {VERSION_TABLE: ["fffffff00000"]}
    with pytest.raises(StoreSchemaError):  # each use tries again, none half-works
        await store.broadcasts()


async def test_an_unversioned_table_of_another_shape_is_refused_not_stamped(url):
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE broadcasts (id INTEGER PRIMARY KEY, body TEXT)"))
    engine.dispose()
    with pytest.raises(StoreSchemaError, match="table broadcasts has the columns"):
        await first_use(url)
    assert inspect(create_engine(url)).get_table_names() == ["broadcasts"]
