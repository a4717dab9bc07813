"""Owns `dshub-add-user NAME`: creating an authorized account from a shell on the hub.

The way to the first admin account when ENABLE_SIGNUP=0 (nobody can sign up, and the portal's
"Create an account" form needs an admin). Reads the password from the terminal, or from stdin
with --password-stdin.
"""

from __future__ import annotations

import argparse
import getpass
import sys

import bcrypt
from nativeauthenticator.orm import Base, UserInfo
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ..platform.settings import settings_or_exit
from ..platform.user_names import RULE, is_valid_username


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dshub-add-user", description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--password-stdin", action="store_true")
    parser.add_argument("--db-url", help="default: JUPYTERHUB_DATABASE_URL, else the SQLite "
                        "file in JUPYTERHUB_DATA_DIR")
    args = parser.parse_args(argv)
    settings = settings_or_exit()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"Password for {args.name}: ")
    name = args.name.strip().lower()
    if not is_valid_username(name):
        print(f"A user name has {RULE}.", file=sys.stderr)
        return 2
    if len(password) < 8:
        print("The password must have at least 8 characters.", file=sys.stderr)
        return 2
    engine = create_engine(args.db_url or settings.hub_database_url)
    Base.metadata.create_all(engine, tables=[UserInfo.__table__])
    with Session(engine) as db:
        if db.scalars(select(UserInfo).where(UserInfo.username == name)).first():
            print(f"An account named {name} already exists.", file=sys.stderr)
            return 1
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())
        db.add(UserInfo(username=name, password=hashed, is_authorized=True))
        db.commit()
    print(f"Account {name} created; it can sign in now.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
