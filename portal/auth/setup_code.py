"""Owns the first admin's one-time setup code, and `dshub-setup-code` to read it.

The hub makes a code at start while the admin account does not exist, writes it to
`setup-code` in the data directory (mode 0600) and logs it; signing up as the admin needs it,
and using it deletes it.
"""

from __future__ import annotations

import argparse
import hmac
import os
import secrets
import sys
from pathlib import Path

FILE_NAME = "setup-code"
# 32 letters and digits without look-alikes (0/O, 1/I): 16 of them are 80 random bits.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_code() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def _canonical(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class SetupCode:
    """The code in force (None: none), kept in memory and in a file the operator can read."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.code: str | None = None

    def issue(self) -> str:
        code = new_code()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(code + "\n")
        os.replace(tmp, self.path)
        self.code = code
        return code

    def withdraw(self) -> None:
        """Void the code: used, or no longer needed because the admin account exists."""
        self.code = None
        self.path.unlink(missing_ok=True)

    def matches(self, given: str) -> bool:
        if not self.code or not given:
            return False
        return hmac.compare_digest(_canonical(given).encode(), _canonical(self.code).encode())


def main(argv: list[str] | None = None) -> int:
    """`dshub-setup-code`: print the code in force, or say why there is none (exit 1)."""
    from ..platform.settings import settings_or_exit

    parser = argparse.ArgumentParser(
        prog="dshub-setup-code",
        description="Print the one-time code for signing up the first admin.")
    parser.add_argument("--data-dir", help="default: JUPYTERHUB_DATA_DIR")
    args = parser.parse_args(argv)
    settings = settings_or_exit()
    path = Path(args.data_dir or settings.data_dir) / FILE_NAME
    try:
        code = path.read_text().strip()
    except FileNotFoundError:
        code = ""
    if not code:
        print(f"No setup code: the account {settings.admin!r} exists already, or the hub has "
              "not started yet.", file=sys.stderr)
        return 1
    print(code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
