"""The signed-in admin and the account maker both suites share (tests/conftest.py for the real
hub, tests/inprocess/conftest.py in process): each conftest imports them next to its own `hub`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.clients import Portal, account_maker, admin_in_sudo_mode


@pytest.fixture(scope="session")
def admin(hub) -> Portal:
    """The admin's session, in sudo mode (its grants need no password prompt)."""
    return admin_in_sudo_mode(hub)


@pytest.fixture(scope="session")
def make_user(hub, admin) -> Callable[..., Portal]:
    """Create an account through the portal's admin form and sign it in."""
    return account_maker(hub, admin)
