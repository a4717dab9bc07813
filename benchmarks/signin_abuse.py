"""Does the hub stay responsive while strangers guess passwords as fast as they can?

20 clients, each from a loopback address of its own (127.0.0.11 ...), send wrong passwords for
the admin account through the proxy without pause (keep-alive, one request in flight each),
while the prober (own process) GETs /hub/health on the hub's own port every 20 ms. Three
floods, one after the other: the sign-in form (`POST /hub/login`), password sign-in on the
token API (`POST /hub/api/users/admin/tokens` with `{"auth": ...}`: off in DS Hub, answered
without a check), and sudo confirmation (`POST /hub/portal/api/sudo` with each client's own
signed-in session of the admin). Figures: the probes' p50/p99 on the idle hub and under each
flood, and what each flood got (pages, 403s, 429 refusals).

    flock /tmp/dshub-pytest.lock .venv/bin/python -m benchmarks.signin_abuse [--quick]
        [--before REV]  (that revision's hub first, in the same session)
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from tests.support.clients import PASSWORD, session_from

from .child import Child
from .common import bench_hub, code_at, machine, proxy_address, quick_run, save
from .prober import Prober
from .stats import table

GOAL_P99_MS = 50.0


def flood(target: tuple[str, int, str], kind: str, sessions: list[dict[str, str]],
          seconds: float) -> dict[str, int]:
    """One flood in a process of its own (its GIL never delays the prober)."""
    child = Child("benchmarks.floods:signin_flood", [*target, kind, sessions, seconds],
                  "flood").start()
    try:
        return child.receive(seconds + 120)
    finally:
        child.finish(10)


def admin_sessions(hub: Any, clients: int) -> list[dict[str, str]]:
    """The admin signed in once from each client's address (before any flood slows it)."""
    sessions = []
    for i in range(clients):
        s = session_from(f"127.0.0.{11 + i}")
        s.get(hub.hub_url("login"), timeout=10)
        r = s.post(hub.hub_url("login"), allow_redirects=False, timeout=60, data={
            "username": "admin", "password": PASSWORD, "_xsrf": s.cookies.get("_xsrf", "")})
        assert r.status_code == 302, f"sign-in from 127.0.0.{11 + i}: {r.status_code}"
        sessions.append({c.name: c.value for c in s.cookies})
    return sessions


def scenario(clients: int, seconds: float, idle: float, code: Any = None) -> dict[str, Any]:
    """Idle probes, then the three floods, on one hub (`code`: a tree of the code before)."""
    results: dict[str, Any] = {"clients": clients, "flood_s": seconds}
    with bench_hub(code=code) as hub:
        # The floods come through the proxy like any browser; the prober asks the hub's own
        # port (its event loop without the proxy's jitter, as in benchmarks.responsiveness).
        target = proxy_address(hub)
        probe_at = ("127.0.0.1", hub.ports["hub"], "/hub/health")
        sessions = admin_sessions(hub, clients)
        with Prober(*probe_at) as idle_probe:
            time.sleep(idle)
        results["idle"] = idle_probe.summary()
        # "flood" (the sign-in form) keeps its name: earlier results compare with it.
        for name, kind in (("flood", "login"), ("token_api", "token_api"), ("sudo", "sudo")):
            with Prober(*probe_at) as probe:
                answers = flood(target, kind, sessions, seconds)
            results[name] = probe.summary()
            results[f"{name}_answers" if name != "flood" else "answers"] = answers
            results[f"{name}_attempts_per_s" if name != "flood" else "attempts_per_s"] = round(
                sum(answers.values()) / seconds, 1)
    rows = [[name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["failed"]]
            for name, s in (("idle", results["idle"]), ("sign-in form", results["flood"]),
                            ("token API", results["token_api"]), ("sudo", results["sudo"]))]
    print(table(["/hub/health during", "probes", "p50 ms", "p99 ms", "max ms", "failed"], rows))
    print(f"{clients} clients, {seconds:.0f} s each; goal p99 < {GOAL_P99_MS:.0f} ms")
    for label, key in (("sign-in form", "answers"), ("token API", "token_api_answers"),
                       ("sudo", "sudo_answers")):
        print(f"  {label}: answers {results[key]}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, 2 clients (CI)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--label", default="", help="e.g. before / after, kept in the results")
    parser.add_argument("--before", default="",
                        help="git revision of the code before: run it first, same session")
    args = parser.parse_args()
    seconds, idle = (1.0, 0.5) if args.quick else (args.seconds, 5.0)
    if args.quick:  # enough to show every path still answers (passwords at bcrypt cost 4)
        args.clients = 2
        quick_run()
    results: dict[str, Any] = {"machine": machine(), "label": args.label}
    if args.before:
        print(f"--- before ({args.before}) ---")
        with code_at(args.before) as tree:
            results["before"] = scenario(args.clients, seconds, idle, tree)
        print("--- after (this checkout) ---")
    results.update(scenario(args.clients, seconds, idle))
    if not args.quick:
        save("signin_abuse" + (f"_{args.label}" if args.label else ""), results)


if __name__ == "__main__":
    main()
