"""JupyterHub's own start page (/hub/spawn) offers the environments the card offers
(portal/lab/spawn_form.py); in process and against the hub's page in tests/inprocess."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from portal.lab.spawn_form import options_from_form, spawn_form


def spawner(choices, last=""):
    async def environment_choices(groups):
        assert groups == {"team"}
        return choices

    return SimpleNamespace(environment_choices=environment_choices if choices is not None else None,
                           group_names=lambda: {"team"}, chosen=SimpleNamespace(name=last))


def test_no_environments_no_form():
    assert asyncio.run(spawn_form(spawner(None))) == ""
    assert asyncio.run(spawn_form(spawner([]))) == ""


def test_the_last_choice_is_preselected_else_the_first():
    choices = [("a", ""), ("b", "GPU <lab>")]
    first = asyncio.run(spawn_form(spawner(choices)))
    assert '<option value="a" selected>a</option>' in first
    assert '<option value="b">b: GPU &lt;lab&gt;</option>' in first
    again = asyncio.run(spawn_form(spawner(choices, last="b")))
    assert '<option value="a">a</option>' in again and '<option value="b" selected>' in again
    gone = asyncio.run(spawn_form(spawner(choices, last="removed")))
    assert '<option value="a" selected>' in gone


def test_the_form_becomes_the_starts_user_options():
    assert options_from_form({"environment": [" b "]}) == {"environment": "b"}
    assert options_from_form({"environment": [""]}) == {}
    assert options_from_form({}) == {}
