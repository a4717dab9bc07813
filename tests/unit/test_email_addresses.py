"""Email addresses as the hub checks them: plain addresses are kept (the domain lower-cased),
anything a mail header could read as more (a second recipient, a new line, a display name) is
refused in a sentence, and an empty field clears the address."""

from __future__ import annotations

import pytest

from portal.auth.email_addresses import MAX_LENGTH, checked
from portal.platform.errors import ActionRefused

# Portal logic that JupyterHub's line does not change: the other line's pass leaves it out.
pytestmark = pytest.mark.default_line_only


@pytest.mark.parametrize("given, kept", [
    ("ann@example.org", "ann@example.org"),
    ("  Ann.Lee+hub@Example.ORG ", "Ann.Lee+hub@example.org"),
    ("o'neil@mail.example.co.uk", "o'neil@mail.example.co.uk"),
    ("", ""),
    ("   ", ""),
])
def test_plain_addresses_are_kept(given: str, kept: str) -> None:
    assert checked(given) == kept


@pytest.mark.parametrize("given, sentence", [
    ("ann", "one @"),
    ("@example.org", "one @"),
    ("ann@", "one @"),
    ("ann@localhost", "domain name such as example.org"),
    ("ann@-bad.org", "domain name such as example.org"),
    ("ann@exa mple.org", "domain name such as example.org"),
    ("ann@example.org\nBcc: eve@example.org", "before the @"),
    ("ann@example.org, eve@example.org", "before the @"),
    ("Ann <ann@example.org>", "no spaces"),
    ('"ann lee"@example.org', "no spaces"),
    ("ann..lee@example.org", "no spaces"),
    (".ann@example.org", "no spaces"),
    ("änn@example.org", "non-ASCII"),
    ("a" * 65 + "@example.org", "no spaces"),
    ("ann@" + "a" * MAX_LENGTH + ".org", f"at most {MAX_LENGTH}"),
])
def test_anything_else_is_refused_in_a_sentence(given: str, sentence: str) -> None:
    with pytest.raises(ActionRefused) as refused:
        checked(given)
    assert sentence in refused.value.message and refused.value.status == 400
    assert "Nothing was changed" in refused.value.message
