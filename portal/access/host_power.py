"""Owns the one gate for host power: which request, on which route, hands out power over the host.

Power over the host is: membership of `docker-sock` / `docker-privileged` and the admin flag
(the socket is root on the host, an admin can grant it); services that are admins or hold a
token (created at run time, they exist for that token); tokens minted by a browser session that
can grant host power, or for a user who holds it; shares of a server whose owner holds it
(`/api/shares`, share codes); setting someone else's password; creating or approving an account
with a password for a name that holds host power; renaming a user who holds it; and pointing the
hub at another proxy. A browser session needs sudo mode (portal/access/sudo.py) for any of these,
whichever route it takes: the hub's REST API, its pages, NativeAuthenticator's pages or the
portal; portal/views/gate.py asks before every handler of the hub runs.

Each rule below judges one kind of request; portal/access/host_power_routes.py says which route and
method each applies to, and denies by default what it does not list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .names import BUILTIN_GROUPS

# Scopes through which host power can be handed out (with any filter). Deny by default uses
# them: a session holding none cannot grant anything through an unknown route either.
POWER_SCOPES = frozenset({"admin:users", "admin:groups", "groups", "admin:services", "tokens",
                          "shares", "proxy"})
# A session holding any of these grants host power, so any token it mints could too.
GRANTING_SCOPES = ("admin:users", "admin:groups", "groups", "admin:services")


@dataclass(frozen=True)
class Request:
    """What the gate sees of one request of a browser session."""

    handler: str  # module.qualname of the route's handler class
    method: str
    args: tuple[str, ...]  # the route's path arguments
    body: Mapping[str, Any]  # the JSON object, or the form's fields (first values)
    user: str
    scopes: frozenset[str]  # the session's scope names, filters dropped
    holds_power: Callable[[str], bool]  # this user is an admin or in a Docker-access group


@dataclass(frozen=True)
class Demand:
    """The request grants host power: `what` (for the refusal), and a field that may carry the
    password with the action (the portal's dialog resends the form with it)."""

    what: str
    password_field: str | None = None


Rule = Callable[[Request], "Demand | None"]


def nothing(request: Request) -> Demand | None:
    return None


def _power(request: Request, what: str, *scopes: str, field: str | None = None) -> Demand | None:
    """A demand unless the session lacks every scope the action needs (the hub refuses it)."""
    if scopes and not request.scopes.intersection(scopes):
        return None
    return Demand(what, field)


def _arg(request: Request, index: int) -> str:
    return request.args[index] if len(request.args) > index else ""


def group_users(request: Request) -> Demand | None:
    group = _arg(request, 0)
    if group not in BUILTIN_GROUPS:
        return None
    return _power(request, f"Adding users to {group}", "groups", "admin:groups")


def group_create(request: Request) -> Demand | None:
    if _arg(request, 0) not in BUILTIN_GROUPS:
        return None
    return _power(request, f"Creating {_arg(request, 0)}", "admin:groups")


def group_list_create(request: Request) -> Demand | None:
    names = request.body.get("groups")
    if not isinstance(names, list) or not set(map(str, names)) & set(BUILTIN_GROUPS):
        return None
    return _power(request, "Creating a Docker-access group", "admin:groups")


def makes_admin(request: Request) -> Demand | None:
    """The admin flag, or roles or Docker-access groups set in a user model."""
    if request.body.get("admin") is True:
        return _power(request, "Making an admin", "admin:users")
    groups = request.body.get("groups")
    if "roles" in request.body or (
            isinstance(groups, list) and set(map(str, groups)) & set(BUILTIN_GROUPS)):
        return _power(request, "Giving a user roles or Docker access", "admin:users")
    return None


def user_patch(request: Request) -> Demand | None:
    if (demand := makes_admin(request)) is not None:
        return demand
    new_name, name = request.body.get("name"), _arg(request, 0)
    if new_name is not None and new_name != name and request.holds_power(name):
        # The name is what a password row matches: a rename hands the power to its owner.
        return _power(request, f"Renaming {name}, who holds host power", "admin:users")
    return None


def token(request: Request) -> Demand | None:
    owner = _arg(request, 0)
    if request.scopes.intersection(GRANTING_SCOPES) or request.holds_power(owner):
        return _power(request, "Making an API token with a browser session", "tokens")
    return None


def service(request: Request) -> Demand | None:
    return _power(request, "Creating a service (it holds a token, maybe an admin's)",
                  "admin:services")


def share(request: Request, field: str | None = None) -> Demand | None:
    owner = _arg(request, 0)
    if request.holds_power(owner):
        return _power(request, f"Sharing {owner}'s server, which has host power", field=field)
    return None


def share_from_portal(request: Request) -> Demand | None:
    """The card's Share: its password dialog sends the form again with the password."""
    return share(request, field="sudo_password")


def proxy(request: Request) -> Demand | None:
    return _power(request, "Pointing the hub at another proxy", "proxy")


def set_password(request: Request) -> Demand | None:
    return _power(request, f"Setting {_arg(request, 0)}'s password", "admin:users")


def create_account(request: Request) -> Demand | None:
    name = str(request.body.get("username", "")).strip()
    if name and request.holds_power(name):
        return _power(request, f"Giving {name}, who holds host power, a password",
                      "admin:users", field="sudo_password")
    return None


def approve(request: Request) -> Demand | None:
    name = _arg(request, 0)
    if _arg(request, 1) == "approve" and request.holds_power(name):
        return _power(request, f"Approving a sign-up as {name}, who holds host power",
                      "admin:users")
    return None


def membership(request: Request) -> Demand | None:
    group, action = _arg(request, 0), _arg(request, 1)
    if action != "add" or group not in BUILTIN_GROUPS:
        return None
    who = str(request.body.get("username", "")).strip()[:80]
    return _power(request, f"Adding {who} to {group}", "groups", field="sudo_password")


def bulk(request: Request) -> Demand | None:
    if request.body.get("action") in ("reset-password", "enable", "clear-2fa"):
        # Many accounts at once, maybe one with host power (the form names only the first).
        return _power(request, "Resetting passwords, enabling accounts or clearing two-factor "
                      "sign-in in bulk",
                      "admin:users", field="sudo_password")
    group = request.body.get("group")
    if request.body.get("action") != "group-add" or group not in BUILTIN_GROUPS:
        return None
    return _power(request, f"Adding users to {group}", "admin:groups", field="sudo_password")


def dormant_archive(request: Request) -> Demand | None:
    # Deleting accounts in bulk takes power away rather than granting it, but a stolen cookie
    # must not wipe out a hub's accounts: the password again, like every bulk account action.
    return _power(request, "Archiving (deleting) dormant accounts in bulk", "admin:users",
                  field="sudo_password")


ACCOUNT_ACTION_WORDS = {"reset-password": "Resetting the password of", "enable": "Enabling",
                        "clear-2fa": "Clearing the two-factor sign-in of"}


def account_action(request: Request) -> Demand | None:
    """Resetting the password of, enabling, or clearing the second factor of an account that
    holds host power: whoever gets the temporary password (the account back, or in with the
    password alone) gets that power."""
    name, action = _arg(request, 0), _arg(request, 1)
    if action not in ACCOUNT_ACTION_WORDS or not request.holds_power(name):
        return None
    what = ACCOUNT_ACTION_WORDS[action]
    return _power(request, f"{what} {name}, who holds host power,", "admin:users",
                  field="sudo_password")


def two_factor_policy(request: Request) -> Demand | None:
    """No longer requiring a second factor of the accounts that hold host power: a stolen
    password alone would open them again."""
    if request.body.get("require") == "on" or request.body.get(
            "two_factor_for_host_power") is True:
        return None
    return _power(request, "No longer requiring two-factor sign-in for host power",
                  "admin:users", field="sudo_password")


def batch_create(request: Request) -> Demand | None:
    """Accounts from a CSV put in a Docker-access group (the confirmation names the batch's
    such groups; a batch holding one it leaves out is refused by the service)."""
    named = str(request.body.get("grants", "")).replace(",", " ").split()
    if not set(named) & set(BUILTIN_GROUPS):
        return None
    return _power(request, f"Creating accounts in {', '.join(sorted(named))[:80]}",
                  "admin:groups", field="sudo_password")
