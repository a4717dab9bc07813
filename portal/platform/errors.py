"""Owns the one refusal type every portal action raises; views turn it into a response."""

from __future__ import annotations


class ActionRefused(Exception):
    """The action cannot run now or with this input; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class DockerUnavailable(ActionRefused):
    """The engine cannot be reached or did not answer in time (answered as 503 everywhere)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Docker cannot be reached: {reason}", 503)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason
