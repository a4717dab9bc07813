"""Owns how a refusal becomes a response, once for every kind of portal handler.

Handlers simply let `ActionRefused` (and `DockerUnavailable`, a 503) propagate. Here it becomes
an `HTTPError` with the refusal's status and sentence, so the hub's own error writers answer:
a page gets the hub's error page, the JSON API gets `{"status", "message"}`, and htmx
fragments get the portal's error partial (views/base.py).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from tornado import web

from ..access.sudo import SudoRequired
from ..platform.errors import ActionRefused


def as_http_error(refusal: ActionRefused) -> web.HTTPError:
    error = web.HTTPError(refusal.status, "%s", refusal.message)
    # The hub's page writer prefers this attribute; fragments show it even for a 503.
    error.jupyterhub_message = refusal.message  # type: ignore[attr-defined]
    # Fragments answer this one with the password dialog instead of the error partial.
    error.sudo_required = isinstance(refusal, SudoRequired)  # type: ignore[attr-defined]
    return error


class RefusalResponses:
    """Mixin, first in the bases of every portal handler."""

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        if exc_info and isinstance(exc_info[1], ActionRefused):
            error = as_http_error(exc_info[1])
            status_code = error.status_code
            kwargs["exc_info"] = (web.HTTPError, error, exc_info[2])
        super().send_error(status_code, **kwargs)  # type: ignore[misc]

    def log_exception(self, typ: type[BaseException] | None, value: BaseException | None,
                      tb: TracebackType | None) -> None:
        if isinstance(value, ActionRefused):
            # A refusal is an answer, not a fault of the hub: one line, no traceback.
            self.log.info("%s %s refused (%d): %s", self.request.method,  # type: ignore[attr-defined]
                          self.request.uri, value.status, value.message)  # type: ignore[attr-defined]
            return
        super().log_exception(typ, value, tb)  # type: ignore[misc]
