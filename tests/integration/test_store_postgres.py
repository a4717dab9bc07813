"""The portal store's migrations on PostgreSQL, in a database it shares with the hub, as
PORTAL_DATABASE_URL = JUPYTERHUB_DATABASE_URL makes it: the same upgrade in place as the SQLite
unit tests (tests/unit/test_store_migrations.py), each version row left to its owner.

Needs the server of scripts/test.sh's PostgreSQL pass (DSHUB_TEST_POSTGRES) and fails without
it; the SQLite pass leaves this file out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from portal.insights import reports
from portal.store.database import PortalStore
from portal.store.migrations import VERSION_TABLE, head
from tests.support import postgres
from tests.support.rollup_levels import (
    assert_same_levels,
    records,
    release_before_with_rows_of,
    written,
)
from tests.support.store_data import (
    ROWS,
    contents,
    first_use,
    hub_database,
    schema_differences,
    store_at_first_revision,
    unversioned_store,
    version_rows,
)


@pytest.fixture
def url() -> Iterator[str]:
    if not postgres.server_url():
        pytest.fail(f"{postgres.ENV} is empty: `bash scripts/postgres.sh start DIR` prints a "
                    "server URL (scripts/test.sh sets it for its PostgreSQL pass)")
    database = postgres.create_database()
    yield database
    postgres.drop_database(database)


async def test_a_store_from_before_migrations_beside_the_hub_is_upgraded_in_place(url):
    hub_database(url)
    hub_row = version_rows(url)["alembic_version"]
    unversioned_store(url)
    before = contents(url)
    store = await first_use(url)
    assert contents(url) == before
    assert [b.message for b in await store.broadcasts()] == ["Kept across upgrades"]
    assert version_rows(url) == {"alembic_version": hub_row, VERSION_TABLE: [head()]}
    hub_database(url)  # the hub starts again: it raises if its own row changed
    assert schema_differences(url) == []


async def test_a_store_of_a_build_with_fewer_tables_gets_the_missing_ones(url):
    unversioned_store(url, tables=("broadcasts", "membership_changes"))
    before = contents(url)
    await first_use(url)
    after = contents(url)
    assert set(after) == set(ROWS)
    assert {name: rows for name, rows in after.items() if name in before} == before
    assert version_rows(url) == {VERSION_TABLE: [head()]}
    assert schema_differences(url) == []


async def test_an_empty_store_beside_the_hub_is_made_by_the_migrations(url):
    hub_database(url)  # the hub's tables only: the store has none yet
    await first_use(url)
    assert set(contents(url)) == set(ROWS)
    assert schema_differences(url) == []
    hub_database(url)


async def test_a_versioned_store_is_upgraded_to_head_intact(url):
    store_at_first_revision(url)
    before = contents(url)
    await first_use(url)
    assert contents(url) == before
    assert version_rows(url) == {VERSION_TABLE: [head()]}
    assert schema_differences(url) == []


@pytest.fixture
def second_url() -> Iterator[str]:
    database = postgres.create_database()
    yield database
    postgres.drop_database(database)


async def test_a_store_of_the_release_before_gets_its_usage_months_and_totals(url, second_url):
    made = written(url, records())  # written as the hub writes: months and totals kept
    release_before_with_rows_of(made, second_url)
    upgraded = PortalStore(second_url)
    assert_same_levels(upgraded, made)
    assert schema_differences(second_url) == []
    # A year's report reads months and days in one snapshot on a reading thread.
    since, until = datetime(2026, 1, 25, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC)
    over_months = await upgraded.read(reports.per_user, since, until)
    assert {n: t.as_json() for n, t in over_months.items()} == {
        n: t.as_json() for n, t in (await made.read(reports.per_user, since, until)).items()}
    assert over_months["u0"].lab_hours > 0
