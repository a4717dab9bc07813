"""Two-factor secrets at rest: the key file (made once, 0600, kept), sealing and opening, a
store read with another key (the second factor stays required, no app code matches, the log
says why, an admin's clear still works) and the revision that seals secrets stored in plain."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from portal.auth.secret_box import KEY_FILE, PREFIX, SecretBox, key_file
from portal.auth.two_factor import CodeKind, TwoFactor
from portal.store import migrations
from portal.store.database import PortalStore
from tests.unit.test_two_factor import Clock, account, code_at, turned_on

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

PLAIN = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.text += record.getMessage() + "\n"


@pytest.fixture
def said() -> Iterator[Lines]:
    # On the logger itself: "JupyterHub" stops propagating once a hub app has run in this
    # process (in-process tests), so pytest's caplog would miss the lines.
    logger, lines = logging.getLogger("JupyterHub.portal.two-factor"), Lines()
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    yield lines
    logger.removeHandler(lines)
    logger.setLevel(level)


def test_the_key_file_is_made_once_readable_by_the_hub_alone(tmp_path, said):
    key = key_file(str(tmp_path))
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_file(str(tmp_path)) == key  # read again, never replaced
    path.chmod(0o644)
    assert key_file(str(tmp_path)) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "now 0600" in said.text


def test_sealed_secrets_open_only_with_their_key(tmp_path, said):
    box = SecretBox.from_settings("", str(tmp_path))
    sealed = box.seal(PLAIN)
    assert sealed.startswith(PREFIX) and PLAIN not in sealed
    assert box.open(sealed) == PLAIN
    other = SecretBox.from_settings(Fernet.generate_key().decode(), str(tmp_path))
    assert other.open(sealed, "ada") is None
    assert box.open(PLAIN, "bob") is None  # plain text in the store is refused too
    assert "ada cannot be decrypted" in said.text and "bob is not encrypted" in said.text
    assert PLAIN not in said.text and sealed not in said.text


async def test_another_key_keeps_the_second_factor_required_and_matches_no_code(tmp_path,
                                                                                said):
    url, clock, user = f"sqlite:///{tmp_path}/portal.sqlite", Clock(), account()
    mine = SecretBox.from_settings(Fernet.generate_key().decode(), str(tmp_path))
    two_factor = TwoFactor(PortalStore(url), clock=clock, box=mine)
    secret, codes = await turned_on(two_factor, clock, user)
    [(stored,)] = create_engine(url).connect().execute(text("SELECT secret FROM two_factor"))
    assert stored.startswith(PREFIX) and secret not in stored

    stolen_key = TwoFactor(PortalStore(url), clock=clock, box=SecretBox(Fernet.generate_key))
    await stolen_key.load()
    assert stolen_key.enabled(user) and stolen_key.unreadable(user)
    clock.now += 30
    assert await stolen_key.verify(user, code_at(secret, clock.now)) is None
    assert "cannot be decrypted" in said.text
    # A recovery code still works (its hash needs no key), and the row keeps its secret.
    assert await stolen_key.verify(user, codes[0]) == CodeKind.RECOVERY
    reread = TwoFactor(PortalStore(url), clock=clock, box=mine)
    await reread.load()
    assert not reread.unreadable(user)
    assert await reread.verify(user, code_at(secret, clock.now)) == CodeKind.APP
    assert await stolen_key.turn_off(user)  # the admins' way out


def _store_before_encryption(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        from alembic import command
        command.upgrade(migrations.alembic_config(connection), "3f7b2d9e6c15")
        connection.execute(text(
            "INSERT INTO two_factor (user, owner_key, secret, last_step, recovery, created) "
            "VALUES ('ada', '7@x', :s, 0, '', '2026-01-01 00:00:00')"), {"s": PLAIN})
    engine.dispose()


def test_the_revision_seals_plain_secrets_and_refuses_without_a_key(tmp_path):
    url = f"sqlite:///{tmp_path}/portal.sqlite"
    _store_before_encryption(url)
    with pytest.raises(RuntimeError, match="no key was given"):
        migrations.upgrade_to_head(create_engine(url))
    engine = create_engine(url)
    with engine.connect() as connection:  # nothing changed: still plain, still the old revision
        assert connection.execute(text("SELECT secret FROM two_factor")).scalar() == PLAIN
        assert migrations.current_revision(connection) == "3f7b2d9e6c15"
    box = SecretBox(Fernet.generate_key)
    migrations.upgrade_to_head(engine, {"two_factor_box": box})
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT secret FROM two_factor")).scalar()
        assert migrations.current_revision(connection) == migrations.head()
    assert stored.startswith(PREFIX) and box.open(stored) == PLAIN
