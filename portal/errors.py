"""The one refusal every portal action uses; views turn it into a readable 4xx."""

from __future__ import annotations


class ActionRefused(Exception):
    """The action cannot run now or with this input; `status` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
