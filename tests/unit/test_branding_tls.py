"""Pure logic of portal.platform.branding (logo URIs) and portal.platform.tls (certificates)."""

from __future__ import annotations

import base64
import logging
import types

import pytest
from cryptography import x509

from portal.platform import branding, tls
from portal.platform.branding import LogoError, configure_logo, load_logo, sanitise_svg, sniff_image

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@pytest.mark.parametrize(
    ("data", "ext"),
    [
        (PNG, "png"),
        (b"\xff\xd8\xff\xe0rest", "jpg"),
        (b"GIF89a....", "gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"\x00\x00\x01\x00\x01\x00", "ico"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
        (b'\xef\xbb\xbf  <svg viewBox="0 0 1 1"><rect/></svg>', "svg"),
    ],
)
def test_images_are_recognised_by_their_bytes(data, ext):
    assert sniff_image(data) == ext


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b"<html><body>not a logo</body></html>",
    ],
)
def test_non_images_are_refused(data):
    with pytest.raises(LogoError):
        sniff_image(data)


@pytest.mark.parametrize(
    "uri",
    [
        "data:image/png;base64," + base64.b64encode(PNG).decode(),
        # Line breaks and percent-encoding survive copy-paste into an env file.
        "data:image/png;base64," + base64.b64encode(PNG).decode()[:10] + "\n"
        + base64.b64encode(PNG).decode()[10:].replace("+", "%2B"),
        "data:;base64," + base64.b64encode(PNG).decode(),
    ],
)
def test_data_uris_decode(uri):
    assert load_logo(uri) == (PNG, "png")


def test_plain_data_uri_with_percent_encoded_svg():
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'
    from urllib.parse import quote

    # What is kept is re-written from the checked tree.
    clean = svg.replace('svg"', 'svg" xmlns:xlink="http://www.w3.org/1999/xlink"', 1)
    assert load_logo("data:image/svg+xml," + quote(svg)) == (clean.encode(), "svg")


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("data:image/png;base64", "no ','"),
        ("data:image/png;base64,!!!", "base64 data is malformed"),
        ("data:not a type;base64,AAAA", "malformed media type"),
        ("file://server/share/logo.png", "is a host"),
        ("file://", "absolute path"),
        ("https://", "has no host"),
        ("http://example.org/logo.png", "plain http:// is not accepted"),
        ("ftp://example.org/logo.png", "accepted forms"),
    ],
)
def test_malformed_uris_say_why(uri, reason):
    with pytest.raises(LogoError, match=reason):
        load_logo(uri)


def test_file_uri_and_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "a b.png"
    path.write_bytes(PNG)
    assert load_logo(path.as_uri()) == (PNG, "png")
    monkeypatch.setattr(branding, "MAX_BYTES", 8)
    with pytest.raises(LogoError, match="larger than"):
        load_logo(path.as_uri())


def _config():
    return types.SimpleNamespace(JupyterHub=types.SimpleNamespace())


def test_configure_logo_saves_and_points_the_hub_at_the_copy(tmp_path):
    c = _config()
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    path = configure_logo(c, uri, tmp_path)
    assert path == tmp_path / "branding" / "logo.png"
    assert c.JupyterHub.logo_file == str(path)
    assert path.read_bytes() == PNG


def test_configure_logo_without_a_uri_changes_nothing(tmp_path):
    c = _config()
    assert configure_logo(c, "", tmp_path) is None
    assert not hasattr(c.JupyterHub, "logo_file")
    assert not (tmp_path / "branding").exists()


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


# Values a hub operator could set that cannot be a logo, and the words its log line must hold.
# tests/integration/test_tls_logo.py starts a real hub with two of them.
UNUSABLE_LOGOS = [
    (lambda d: (d / "missing.png").as_uri(), "cannot be read"),
    (lambda d: _write(d / "notes.txt", b"not an image").as_uri(), "is not a PNG"),
    (lambda d: "data:image/png;base64,@@not-base64@@", "base64 data is malformed"),
    (lambda d: "data:image/png;base64", "has no ','"),
    (lambda d: "https:///logo.png", "has no host"),
    (lambda d: _write(d / "x.svg", b'<!DOCTYPE svg [<!ENTITY x "&#60;script&#62;">]>'
                      b'<svg xmlns="http://www.w3.org/2000/svg">&x;</svg>').as_uri(), "DTD"),
]
UNUSABLE_IDS = ["missing-file", "not-an-image", "bad-base64", "no-comma", "no-host",
                "svg-entities"]


@pytest.mark.parametrize(("make_uri", "reason"), UNUSABLE_LOGOS, ids=UNUSABLE_IDS)
def test_configure_logo_logs_one_error_and_keeps_the_stock_logo(tmp_path, caplog, make_uri,
                                                                reason):
    c = _config()
    with caplog.at_level(logging.INFO):
        assert configure_logo(c, make_uri(tmp_path), tmp_path) is None
    assert not hasattr(c.JupyterHub, "logo_file")
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "JUPYTERHUB_CUSTOM_LOGO_URI=" in errors[0].getMessage()
    assert "keeping the stock logo" in errors[0].getMessage()
    assert reason in errors[0].getMessage()


def test_long_data_uris_are_shortened_in_log_lines(tmp_path, caplog):
    uri = "data:image/png;base64," + "A" * 5000 + "!"
    configure_logo(_config(), uri, tmp_path)
    assert len(caplog.records[-1].getMessage()) < 400


# --- tls ------------------------------------------------------------------------------------


def test_generated_certificate_names_and_key_permissions(tmp_path):
    pair = tls.ensure_certificate(tmp_path / "certs", ["Hub.Example.Test", "203.0.113.9"])
    assert pair.generated
    cert = tls.check_pair(pair.cert, pair.key)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"hub.example.test", "localhost"} <= set(san.get_values_for_type(x509.DNSName))
    # Labs on their own origin (JUPYTERHUB_SUBDOMAIN_HOST) are <user>.<host>: wildcards too.
    assert {"*.hub.example.test", "*.localhost"} <= set(san.get_values_for_type(x509.DNSName))
    assert not any(n.startswith("*.203") for n in san.get_values_for_type(x509.DNSName))
    assert {"203.0.113.9", "127.0.0.1", "::1"} <= {
        str(a) for a in san.get_values_for_type(x509.IPAddress)
    }
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert (pair.key.stat().st_mode & 0o777) == 0o600
    # Browsers refuse server certificates valid for longer than 825 days.
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 826


def test_existing_pair_is_kept(tmp_path):
    first = tls.ensure_certificate(tmp_path, ["a.example.test"])
    before = first.cert.read_bytes()
    second = tls.ensure_certificate(tmp_path, ["other.example.test"])
    assert not second.generated
    assert second.cert.read_bytes() == before


def test_half_pair_and_mismatched_key_are_errors(tmp_path):
    cert, _ = tls.generate_self_signed(["a.example.test"])
    _, other_key = tls.generate_self_signed(["b.example.test"])
    (tmp_path / "cert.pem").write_bytes(cert)
    with pytest.raises(tls.CertificateError, match="key.pem does not"):
        tls.ensure_certificate(tmp_path)
    (tmp_path / "key.pem").write_bytes(other_key)
    with pytest.raises(tls.CertificateError, match="is not the private key"):
        tls.ensure_certificate(tmp_path)
    (tmp_path / "cert.pem").write_bytes(b"garbage")
    with pytest.raises(tls.CertificateError, match="not a readable PEM certificate"):
        tls.ensure_certificate(tmp_path)


def test_cli_writes_traefik_configuration_once(tmp_path, capsys):
    assert tls.main(["--dir", str(tmp_path), "--traefik", "--host", "hub.example.test,alt"]) == 0
    config = (tmp_path / "traefik.yml").read_text()
    assert f"certFile: {tmp_path / 'cert.pem'}" in config
    assert f"keyFile: {tmp_path / 'key.pem'}" in config
    cert = (tmp_path / "cert.pem").read_bytes()
    assert tls.main(["--dir", str(tmp_path), "--traefik"]) == 0
    assert (tmp_path / "cert.pem").read_bytes() == cert
    assert "Using the existing certificate" in capsys.readouterr().out
    (tmp_path / "key.pem").unlink()
    assert tls.main(["--dir", str(tmp_path)]) == 1


NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


@pytest.mark.parametrize(
    ("body", "gone"),
    [
        # A second prefix for the SVG namespace: the element is still svg:script.
        (b'<s:script xmlns:s="http://www.w3.org/2000/svg">alert(1)</s:script>', b"alert"),
        (b'<s:foreignObject xmlns:s="http://www.w3.org/2000/svg"><iframe '
         b'xmlns="http://www.w3.org/1999/xhtml" srcdoc="&lt;script&gt;x()"/></s:foreignObject>',
         b"srcdoc"),
        (b'<use href="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=#x"/>', b"data:"),
        (b'<a xlink:href="javascript:alert(1)"><rect/></a>', b"javascript"),
        (b'<rect onclick="x()" fill="url(https://example.org/p#a)"/>', b"example.org"),
        (b'<style>@import url(https://example.org/a.css);</style>', b"import"),
        (b'<rect style="fill:u\\72l(https://example.org/x)"/>', b"example.org"),
        (b'<set attributeName="href" to="javascript:x()"/>', b"javascript"),
        (b'<image href="https://example.org/i.png"/>', b"example.org"),
        (b'<?xml-stylesheet href="https://example.org/s.css"?><rect/>', b"example.org"),
    ],
)
def test_svg_keeps_only_allow_listed_drawing(body, gone):
    clean = sanitise_svg(b"<svg " + NS.encode() + b">" + body + b"</svg>")
    assert gone not in clean
    assert clean.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')


def test_svg_drawing_survives_sanitising():
    svg = (b'<svg ' + NS.encode() + b' viewBox="0 0 10 10"><defs><linearGradient id="g">'
           b'<stop offset="0" stop-color="#fff"/></linearGradient></defs>'
           b'<rect width="10" height="10" style="fill:url(#g)"/><use xlink:href="#g"/>'
           b'<text x="1">A &amp; B</text><image href="data:image/png;base64,iVBORw0K"/></svg>')
    clean = sanitise_svg(svg)
    for kept in (b'style="fill:url(#g)"', b'xlink:href="#g"', b"A &amp; B",
                 b'href="data:image/png;base64,iVBORw0K"', b"<linearGradient id=\"g\">"):
        assert kept in clean, clean


@pytest.mark.parametrize(
    "svg",
    [
        b'<!DOCTYPE svg [<!ENTITY x "&#60;script&#62;">]><svg ' + NS.encode() + b">&x;</svg>",
        b'<!DOCTYPE svg SYSTEM "https://example.org/x.dtd"><svg ' + NS.encode() + b"/>",
        b"<svg><rect/></svg>",  # no SVG namespace: not an SVG document to a browser
        b"<svg " + NS.encode() + b"><rect></svg>",
    ],
)
def test_svg_with_a_dtd_or_malformed_is_refused(svg):
    with pytest.raises(LogoError):
        sanitise_svg(svg)
