"""Owns the choice JupyterHub's own start page (/hub/spawn, and an admin's /hub/spawn/<user>)
offers: the environments the user may use, the last one preselected, as on the portal's card.
Without any, the page has no form and JupyterHub starts the server at once.

The choice becomes the start's user options ({"environment": name}); the spawner's
ENVIRONMENT hook then checks it like any other start's (an unknown or forbidden one starts
nothing)."""

from __future__ import annotations

from html import escape
from typing import Any

from .chosen_environment import STATE_KEY


async def spawn_form(spawner: Any) -> str:
    """The form's HTML for this spawner's user ("" when there is nothing to choose)."""
    if spawner.environment_choices is None:
        return ""
    choices = await spawner.environment_choices(spawner.group_names())
    if not choices:
        return ""
    names = [name for name, _ in choices]
    last = spawner.chosen.name
    selected = last if last in names else names[0]
    options = "".join(
        f'<option value="{escape(name)}"{" selected" if name == selected else ""}>'
        f'{escape(name)}{": " + escape(about) if about else ""}</option>'
        for name, about in choices)
    return (f'<label class="form-label" for="{STATE_KEY}">Environment</label>'
            f'<select class="form-select" id="{STATE_KEY}" name="{STATE_KEY}" required '
            f'autofocus>{options}</select>')


def options_from_form(formdata: dict[str, list[str]]) -> dict[str, str]:
    """The form's fields as the start's user options (an empty choice: none)."""
    chosen = (formdata.get(STATE_KEY) or [""])[0].strip()
    return {STATE_KEY: chosen} if chosen else {}
