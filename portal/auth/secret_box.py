"""Owns the key that encrypts two-factor secrets at rest, and sealing and opening them (Fernet
from `cryptography`: AES-128-CBC with an HMAC-SHA256, a JupyterHub dependency).

The key is TWO_FACTOR_KEY when set, else a key the hub makes once in its data directory
(`two-factor.key`, mode 0600, beside the cookie secret) and reads at every start. A copy of the
store without the key holds no usable secret. A stored secret is `fernet:` and the token. One
that cannot be opened (another key, a damaged row) opens as None: the account still needs its
second factor and no app code matches (never open), the hub log says why, and an admin clears
it (Clear 2FA). The key is read on the store's thread, never on the event loop.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from ..platform.logs import portal_logger

log = portal_logger("two-factor")
PREFIX = "fernet:"
KEY_FILE = "two-factor.key"


def key_file(data_dir: str) -> bytes:
    """The data directory's key, made (0600, never replaced) at the first use."""
    path = Path(data_dir) / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # whoever copied it in left it readable to others
            log.warning("%s was readable by other users: now 0600", path)
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    log.info("Made the key for two-factor secrets at rest: %s (keep it with the store's "
             "backups, apart from them)", path)
    return key


class SecretBox:
    """Seals and opens secrets; the key is fetched at the first use (on the store's thread)."""

    def __init__(self, key: Callable[[], bytes]) -> None:
        self._key = key
        self._fernet: Fernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, setting: str, data_dir: str) -> SecretBox:
        return cls(lambda: setting.encode() if setting else key_file(data_dir))

    def _box(self) -> Fernet:
        with self._lock:
            if self._fernet is None:
                self._fernet = Fernet(self._key())
            return self._fernet

    def seal(self, secret: str) -> str:
        return PREFIX + self._box().encrypt(secret.encode()).decode()

    def open(self, stored: str, whose: str = "") -> str | None:
        """The secret, or None when it cannot be read (logged, never the stored value)."""
        if not stored.startswith(PREFIX):
            log.error("The two-factor secret of %s is not encrypted: refused (the store "
                      "was changed by hand?); an admin can clear it", whose or "an account")
            return None
        try:
            return self._box().decrypt(stored[len(PREFIX):].encode()).decode()
        except (InvalidToken, ValueError):
            log.error("The two-factor secret of %s cannot be decrypted with this hub's key "
                      "(TWO_FACTOR_KEY or %s changed?): no app code signs it in; an admin can "
                      "clear its two-factor sign-in", whose or "an account", KEY_FILE)
            return None
