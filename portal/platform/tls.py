"""Owns TLS certificates: the hub's own (ENABLE_JUPYTERHUB_SSL=1) and Traefik's (compose `certs`).

A directory holds `cert.pem` (the certificate, or a full chain) and `key.pem`. When both are
missing a self-signed certificate is generated once, valid for localhost, the loopback addresses,
this machine's names and the configured host names with their wildcards (`*.name`, for labs on
subdomains); an operator replaces it by putting their own
two files there. One file without the other, or a key that does not match, is an error: serving
a half-replaced pair would fail in every browser with a less helpful message.

Command line (the compose `certs` service): `python -m portal.platform.tls --dir /certs --host NAME
[--traefik]`; `--traefik` also writes `traefik.yml`, Traefik's dynamic configuration that makes
the pair its default certificate.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
TRAEFIK_FILE = "traefik.yml"
# Browsers refuse server certificates valid for more than 825 days, even self-signed ones.
VALID_DAYS = 825

log = logging.getLogger(__name__)


class CertificateError(Exception):
    """The certificate directory holds something that cannot be served."""


@dataclass(frozen=True)
class CertificatePair:
    cert: Path
    key: Path
    generated: bool


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def default_hostnames(extra: Iterable[str] = ()) -> list[str]:
    """Names a generated certificate covers: the configured ones first, then this machine's.

    Every configured name and `localhost` also get their wildcard (`*.hub.example.org`): with
    JUPYTERHUB_SUBDOMAIN_HOST each user's lab is served on such a subdomain.
    """
    names: list[str] = []
    configured = [n.strip().lower() for n in extra]
    wildcards = [f"*.{n}" for n in [*configured, "localhost"] if n and not _is_address(n)]
    for name in [*configured, "localhost", *wildcards, socket.gethostname(), socket.getfqdn(),
                 "127.0.0.1", "::1"]:
        name = name.strip().lower()
        if name and name not in names:
            names.append(name)
    return names


def _san_entry(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def generate_self_signed(
    hostnames: list[str], days: int = VALID_DAYS
) -> tuple[bytes, bytes]:
    """A self-signed server certificate for `hostnames` (first one is the subject): PEM pair."""
    if not hostnames:
        raise ValueError("a certificate needs at least one host name")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0][:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DS Hub (self-signed)"),
    ])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        # A little slack for clocks that are behind the machine that made the certificate.
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([_san_entry(n) for n in hostnames]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    # Written next to the target and renamed, so a reader never sees half a key.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_pair(cert_path: Path, key_path: Path) -> x509.Certificate:
    """Load a certificate and its key; raise `CertificateError` unless they belong together."""
    try:
        certs = x509.load_pem_x509_certificates(cert_path.read_bytes())
    except (OSError, ValueError) as e:
        raise CertificateError(f"{cert_path} is not a readable PEM certificate: {e}") from None
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as e:
        raise CertificateError(
            f"{key_path} is not a readable, unencrypted PEM private key: {e}"
        ) from None
    leaf = certs[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(serialization.Encoding.PEM, spki) != key.public_key(
    ).public_bytes(serialization.Encoding.PEM, spki):
        raise CertificateError(f"{key_path} is not the private key of {cert_path}")
    return leaf


def ensure_certificate(
    directory: str | Path, hostnames: Iterable[str] = (), logger: logging.Logger | None = None
) -> CertificatePair:
    """The pair in `directory`: the operator's own if present, else generated once."""
    logger = logger or log
    directory = Path(directory)
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    present = cert_path.exists(), key_path.exists()
    if all(present):
        leaf = check_pair(cert_path, key_path)
        if leaf.not_valid_after_utc < datetime.datetime.now(datetime.UTC):
            logger.warning("The TLS certificate %s expired on %s: replace it or delete both files "
                        "to have a new one generated", cert_path, leaf.not_valid_after_utc)
        return CertificatePair(cert_path, key_path, generated=False)
    if any(present):
        found, missing = (cert_path, key_path) if present[0] else (key_path, cert_path)
        raise CertificateError(
            f"{found} exists but {missing} does not: provide both, or remove {found} to have "
            "a self-signed pair generated"
        )
    names = default_hostnames(hostnames)
    cert_pem, key_pem = generate_self_signed(names)
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomic(key_path, key_pem, 0o600)
    _write_atomic(cert_path, cert_pem, 0o644)
    logger.info("Generated a self-signed TLS certificate %s for %s", cert_path, ", ".join(names))
    return CertificatePair(cert_path, key_path, generated=True)


def traefik_config(cert_path: str | Path, key_path: str | Path) -> str:
    """Traefik's dynamic configuration making the pair the default certificate (no SNI match)."""
    return (
        "# Written by `python -m portal.platform.tls --traefik`; the pair may be replaced by your"
        " own.\n"
        "tls:\n"
        "  stores:\n"
        "    default:\n"
        "      defaultCertificate:\n"
        f"        certFile: {cert_path}\n"
        f"        keyFile: {key_path}\n"
        "  options:\n"
        "    default:\n"
        "      minVersion: VersionTLS12\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m portal.platform.tls",
        description="Make sure a directory holds a TLS certificate and key (generated once).",
    )
    parser.add_argument("--dir", required=True, help="directory of cert.pem and key.pem")
    parser.add_argument("--host", action="append", default=[],
                        help="host name or address the certificate is for (repeatable; "
                             "commas separate several)")
    parser.add_argument("--traefik", action="store_true",
                        help="also write traefik.yml making the pair Traefik's default")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    hosts = [h for arg in args.host for h in arg.split(",") if h.strip()]
    try:
        pair = ensure_certificate(args.dir, hosts)
    except CertificateError as e:
        print(f"DS Hub certificates: {e}", file=sys.stderr)
        return 1
    if not pair.generated:
        print(f"Using the existing certificate {pair.cert}")
    if args.traefik:
        path = Path(args.dir) / TRAEFIK_FILE
        _write_atomic(path, traefik_config(pair.cert, pair.key).encode(), 0o644)
    return 0


if __name__ == "__main__":
    sys.exit(main())
