"""Owns what a broadcast achieved: each lab's answer in plain words, and the totals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DELIVERED = "delivered"
NOT_INSTALLED = "extension not installed"
UNREACHABLE = "unreachable or timed out"


@dataclass(frozen=True)
class Delivery:
    user: str
    ok: bool
    reason: str
    code: int | None = None  # HTTP status from the lab, when it answered
    server: str = ""  # the named server reached ("": the default one)

    def as_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copies cost ~10 ms per 1,000 results on the loop.
        return {"user": self.user, "server": self.server, "ok": self.ok, "reason": self.reason,
                "code": self.code}


@dataclass
class Outcome:
    id: int | None
    results: list[Delivery] = field(default_factory=list)
    seconds: float = 0.0
    saved: bool = True

    @property
    def targeted(self) -> int:
        return len(self.results)

    @property
    def delivered(self) -> int:
        return sum(1 for r in self.results if r.ok)

    @property
    def failed(self) -> int:
        return self.targeted - self.delivered

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "targeted": self.targeted, "delivered": self.delivered,
            "failed": self.failed, "seconds": round(self.seconds, 3), "saved": self.saved,
            "results": [r.as_json() for r in self.results],
        }


def _lab_error(body: bytes) -> str:
    try:
        error = json.loads(body).get("error") or json.loads(body).get("message")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return ""
    return str(error)[:200] if error else ""


def classify(code: int, body: bytes = b"") -> tuple[bool, str]:
    """An HTTP answer from a lab -> (delivered?, reason in plain words)."""
    if code == 200:
        try:
            if json.loads(body).get("success") is True:
                return True, DELIVERED
        except (ValueError, AttributeError, UnicodeDecodeError):
            pass
        return False, "refused (unexpected answer from the server)"
    if code == 404:
        return False, NOT_INSTALLED
    if code == 599:
        return False, UNREACHABLE
    if 400 <= code < 500:
        detail = _lab_error(body)
        return False, f"refused (HTTP {code}{': ' + detail if detail else ''})"
    if 300 <= code < 400:
        return False, f"refused (HTTP {code}: redirected, the credential was not accepted)"
    return False, f"server error (HTTP {code})"
