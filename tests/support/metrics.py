"""Scraping a hub's /hub/metrics as Prometheus does: with a token holding `read:metrics` (the
test hubs' `test-scraper` service), or with whatever a test hands in."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families


def scraper_token(hub) -> str:
    return "scrape-" + hub.token


def scrape(hub, token: str | None = None, session: requests.Session | None = None,
           ) -> requests.Response:
    """GET /hub/metrics; with neither a token nor a session, anonymously."""
    headers = {"Authorization": f"token {token}"} if token else {}
    return (session or requests).get(hub.hub_url("metrics"), headers=headers, timeout=30)


def samples(hub) -> dict[tuple[str, frozenset], float]:
    """{(sample name, its labels): value} of one scrape with the scraper's token."""
    r = scrape(hub, scraper_token(hub))
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(found: dict[tuple[str, frozenset], float], name: str, **labels: str) -> float:
    """One sample's value from `samples()`; 0 when the series is absent."""
    return found.get((name, frozenset(labels.items())), 0.0)
