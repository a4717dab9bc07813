"""Quotas per group member, with the month handed in: the most generous group's value, the
admin's input, who has used up their lab hours and the sentence that says when they renew."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.insights.quotas import Quota, QuotaService, most_generous, parse_quota, used_up
from portal.insights.rollup_rows import write_hourly
from portal.insights.rollups import GIB, HOUR, Rollup
from portal.platform.errors import ActionRefused
from portal.store.database import PortalStore

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

NOW = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)


class Audit:
    def __init__(self) -> None:
        self.events: list[tuple] = []

    async def record(self, *event) -> None:
        self.events.append(event)


def test_the_most_generous_group_counts_and_unset_values_do_not():
    assert most_generous([Quota(10 * GIB, 40), Quota(None, 80), Quota(5 * GIB, None)]) == \
        Quota(10 * GIB, 80)
    assert most_generous([]) == Quota()


def test_the_admins_input():
    assert parse_quota("10G", "40") == Quota(10 * GIB, 40.0)
    assert parse_quota("", " ") == Quota()
    for storage, hours, words in (("lots", "", "is not a size"), ("", "-1", "above 0"),
                                  ("", "many", "above 0"), ("", "745", "at most 744")):
        with pytest.raises(ActionRefused, match=words):
            parse_quota(storage, hours)


def test_the_refusal_says_when_the_hours_renew():
    assert used_up(41.04, 40, NOW) == (
        "You have used your 40 lab hours for December 2026 (41.0 h); they renew on 2027-01-01 at "
        "00:00 UTC. An admin can raise your group's quota meanwhile.")


async def test_who_has_used_up_their_hours(tmp_path):
    store = PortalStore(f"sqlite:///{tmp_path}/portal.sqlite")
    quotas = QuotaService(store, Audit())
    await quotas.set_group("admin", "students", Quota(None, 2))
    await quotas.set_group("admin", "staff", Quota(GIB, 5))
    start = int(datetime(2026, 12, 6, 10, tzinfo=UTC).timestamp())
    last_month = int(datetime(2026, 11, 30, 10, tzinfo=UTC).timestamp())
    write_hourly(store, {(user, "", start + h * HOUR): Rollup(lab_seconds=HOUR)
                         for user in ("ana", "bo", "cy", "root") for h in range(3)})
    write_hourly(store, {("dee", "", last_month + h * HOUR): Rollup(lab_seconds=HOUR)
                         for h in range(5)})
    members = {"students": ["ana", "bo", "dee", "root"], "staff": ["bo"], "others": ["cy"]}
    await quotas.refresh(members, admins={"root"}, now=NOW)
    assert quotas.start_refusal("ana").startswith("You have used your 2 lab hours")
    assert quotas.start_refusal("bo") is None  # staff gives 5 hours
    assert quotas.start_refusal("cy") is None  # no quota
    assert quotas.start_refusal("dee") is None  # last month's hours do not count
    assert quotas.start_refusal("root") is None  # admins are exempt
    assert quotas.storage_quota("bo") == GIB and quotas.storage_quota("ana") is None
    assert await quotas.storage_warning(["staff"], {"home": GIB, "cache": 1}) != ""
    assert await quotas.storage_warning(["staff"], {"home": GIB, "cache": None}) == ""
    await quotas.set_group("admin", "students", Quota())
    await quotas.refresh(members, admins={"root"}, now=NOW)
    assert quotas.start_refusal("ana") is None
    assert quotas.audit.events[-1][1:] == ("quota change", "students",
                                            "no storage quota, 2 lab hours a month -> no storage "
                                            "quota, no lab-hours quota")


async def test_only_the_members_of_groups_with_quotas_are_read_from_the_hub(tmp_path):
    from jupyterhub import orm
    from sqlalchemy import event

    db = orm.new_session_factory("sqlite:///:memory:")()
    students, others = orm.Group(name="students"), orm.Group(name="others")
    db.add_all([orm.User(name="ana", groups=[students]), orm.User(name="cy", groups=[others])])
    db.commit()
    statements: list[str] = []
    event.listen(db.get_bind(), "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement))
    quotas = QuotaService(PortalStore(f"sqlite:///{tmp_path}/portal.sqlite"), Audit())
    await quotas.refresh_from_hub(db)  # no group has a quota: no member read
    assert not any("user_group_map" in s for s in statements)
    await quotas.set_group("admin", "students", Quota(GIB, None))
    await quotas.refresh_from_hub(db)
    assert quotas.storage_quota("ana") == GIB and quotas.storage_quota("cy") is None
    assert any("user_group_map" in s for s in statements)
