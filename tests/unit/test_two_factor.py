"""Two-factor codes on a fake clock: a TOTP code works once (not again within its 30 seconds,
nor an older one after a newer), one step of drift either side is allowed, recovery codes work
once and are stored only hashed, the set-up expires, and a later account of the same name does
not inherit the secret. The throttle and the sign-in's pages: tests/inprocess/test_two_factor.py
and tests/integration/test_two_factor.py."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pyotp
import pytest
from sqlalchemy import select

from portal.auth.sign_in_tickets import TRIES, SignInTickets
from portal.auth.two_factor import SETUP_SECONDS, CodeKind, TwoFactor
from portal.platform.errors import ActionRefused
from portal.store.database import PortalStore
from portal.store.tables import TwoFactorRow
from portal.views.two_factor import qr_svg

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

T0 = 1_800_000_000.0  # a step boundary (divisible by 30)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def account(name: str = "ada", uid: int = 7) -> SimpleNamespace:
    return SimpleNamespace(name=name, id=uid, created=datetime(2026, 1, 1, tzinfo=UTC))


def code_at(secret: str, when: float) -> str:
    return pyotp.TOTP(secret).at(datetime.fromtimestamp(when, UTC))


@pytest.fixture
def factors(tmp_path):
    clock = Clock()
    return TwoFactor(PortalStore(f"sqlite:///{tmp_path}/portal.sqlite"), clock=clock), clock


async def turned_on(two_factor: TwoFactor, clock: Clock, user) -> tuple[str, list[str]]:
    setup = two_factor.begin_setup(user)
    codes = await two_factor.confirm_setup(user, code_at(setup.secret, clock.now))
    return setup.secret, codes


async def test_a_code_works_once_and_never_an_older_one(factors):
    two_factor, clock = factors
    user = account()
    secret, _ = await turned_on(two_factor, clock, user)
    # The code that confirmed the set-up is used up too.
    assert await two_factor.verify(user, code_at(secret, clock.now)) is None
    clock.now += 30
    fresh = code_at(secret, clock.now)
    assert await two_factor.verify(user, fresh) == CodeKind.APP
    assert await two_factor.verify(user, fresh) is None  # replayed within its own step
    clock.now += 30
    assert await two_factor.verify(user, fresh) is None  # last step's, still in the window
    assert await two_factor.verify(user, code_at(secret, clock.now)) == CodeKind.APP


async def test_one_step_of_drift_either_way_and_no_more(factors):
    two_factor, clock = factors
    user = account()
    secret, _ = await turned_on(two_factor, clock, user)
    clock.now += 300
    assert await two_factor.verify(user, code_at(secret, clock.now + 60)) is None
    assert await two_factor.verify(user, code_at(secret, clock.now - 30)) == CodeKind.APP
    assert await two_factor.verify(user, code_at(secret, clock.now + 30)) == CodeKind.APP
    assert await two_factor.verify(user, "12345") is None
    assert await two_factor.verify(user, "") is None


async def test_recovery_codes_work_once_whatever_their_spelling_and_are_kept_hashed(factors):
    two_factor, clock = factors
    user = account()
    _, codes = await turned_on(two_factor, clock, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert await two_factor.verify(user, f" {codes[0].upper()} ") == CodeKind.RECOVERY
    assert await two_factor.verify(user, codes[0]) is None
    assert await two_factor.verify(user, codes[1].replace("-", "")) == CodeKind.RECOVERY
    assert two_factor.recovery_left(user) == 8
    with two_factor.store.session() as db:
        row = db.scalars(select(TwoFactorRow)).one()
    assert not any(code in row.recovery or code.replace("-", "") in row.recovery
                   for code in codes)
    # What the store holds is what a restarted hub knows.
    again = TwoFactor(two_factor.store, clock=clock)
    await again.load()
    assert again.recovery_left(user) == 8
    assert await again.verify(user, codes[0]) is None


async def test_a_setup_is_confirmed_by_a_right_code_in_time_and_changes_nothing_before(factors):
    two_factor, clock = factors
    user = account()
    setup = two_factor.begin_setup(user)
    with pytest.raises(ActionRefused) as wrong:
        await two_factor.confirm_setup(user, "000000" if code_at(setup.secret, clock.now)
                                       != "000000" else "111111")
    assert wrong.value.status == 403 and not two_factor.enabled(user)
    clock.now += SETUP_SECONDS + 1
    with pytest.raises(ActionRefused) as late:
        await two_factor.confirm_setup(user, code_at(setup.secret, clock.now))
    assert late.value.status == 409 and "expired" in late.value.message
    await turned_on(two_factor, clock, user)
    with pytest.raises(ActionRefused):
        two_factor.begin_setup(user)  # on already: turn it off first


async def test_a_later_account_of_the_same_name_has_no_second_factor(factors):
    two_factor, clock = factors
    await turned_on(two_factor, clock, account(uid=7))
    later = account(uid=8)
    assert not two_factor.enabled(later)
    assert await two_factor.verify(later, "123456") is None


def test_the_qr_code_is_an_inline_svg_drawn_here():
    svg = qr_svg("otpauth://totp/DS%20Hub:ada?secret=JBSWY3DPEHPK3PXP&issuer=DS%20Hub")
    assert svg.startswith("<svg") and "http" not in svg.replace("http://www.w3.org", "")


def test_a_ticket_expires_and_is_void_after_five_wrong_codes():
    clock = Clock()
    tickets = SignInTickets(clock=clock)
    token = tickets.issue("ada")
    assert tickets.get(token).user == "ada"
    for _ in range(TRIES - 1):
        assert tickets.refused(token) is False
    assert tickets.refused(token) is True and tickets.get(token) is None
    token = tickets.issue("ada")
    clock.now += 301
    assert tickets.get(token) is None
