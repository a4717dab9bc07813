"""Markdown tables of the latest results (benchmarks/results/*.json), with each goal's verdict.

    .venv/bin/python -m benchmarks.report
"""

from __future__ import annotations

import json
from typing import Any

from .common import RESULTS
from .stats import table

PROBER_GOAL_MS = 50
# Run-to-run spread of /hub/home's own p50 on this shared machine (portal_speed runs).
NOISE = 0.10


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def gc_text(s: dict[str, Any]) -> str:
    """The hub's GC pauses >= 20 ms in a window: "at 0.1 s: 210 ms" (none: "-")."""
    pauses = s.get("hub_gc")
    if pauses is None:
        return "n/a"
    return ", ".join(f"at {at} s: {ms} ms" for at, _, ms in pauses) or "-"


def kb(n: float) -> float:
    return round(n / 1024, 1)


def responsiveness(d: dict[str, Any]) -> str:
    rows = []
    for name, s in d["scenarios"].items():
        judged = not name.startswith(("idle", "control", "volume sizes"))
        rows.append([name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"], s["failed"],
                     "-" if s.get("action_s") is None else s["action_s"], gc_text(s),
                     verdict(s["p99_ms"] < PROBER_GOAL_MS) if judged else "-"])
    return table(["during", "probes", "p50 ms", "p99 ms", "max ms", "failed", "action s",
                  "hub GC pauses >= 20 ms", f"p99 < {PROBER_GOAL_MS} ms"], rows)


def portal_speed(d: dict[str, Any]) -> str:
    rows, summary_rows = [], []
    for phase, got in d["phases"].items():
        rows += [[phase, k, v["n"], v["p50_ms"], v["p99_ms"], v["max_ms"], v["req_per_s"]]
                 for k, v in got.items()]
        for c in (1, 20):
            home, page = got[f"/hub/home @ c={c}"], got[f"/hub/portal @ c={c}"]
            card = got[f"card fragment @ c={c}"]
            ratio = page["p50_ms"] / home["p50_ms"]
            summary_rows.append([
                phase, c, f"{page['p50_ms']} / {page['p99_ms']}",
                f"{home['p50_ms']} / {home['p99_ms']}", round(ratio, 2),
                round(page["p99_ms"] / home["p99_ms"], 2),
                verdict(ratio <= 1 + NOISE), f"{card['p50_ms']} / {card['p99_ms']}",
                verdict(card["p50_ms"] < 10) if c == 1 else "-",
            ])
    return table(["server", "c", "/hub/portal p50 / p99 ms", "/hub/home p50 / p99 ms",
                  "p50 ratio", "p99 ratio", f"no slower (p50, ±{NOISE:.0%} noise)",
                  "card p50 / p99 ms", "card p50 < 10 ms"], summary_rows) + "\n\n" + table(
        ["server", "endpoint", "requests", "p50 ms", "p99 ms", "max ms", "req/s"], rows)


def broadcast(runs: dict[str, dict[str, Any]]) -> str:
    rows = []
    for label, d in runs.items():
        goal = d["goal_s"]
        for name, s in d["scenarios"].items():
            if "delivered" not in s:
                rows.append([label, name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"],
                             gc_text(s), "-", "-", "-"])
                continue
            complete = s["delivered"] == s["expected_delivered"]
            in_time = "labs" in name or s["send_s"] <= goal
            rows.append([label, name, s["n"], s["p50_ms"], s["p99_ms"], s["max_ms"],
                         gc_text(s), f"{s['delivered']}/{s['expected_delivered']}", s["send_s"],
                         verdict(complete and in_time and s["p99_ms"] < PROBER_GOAL_MS)])
    return table(["run", "during", "probes", "p50 ms", "p99 ms", "max ms",
                  "hub GC pauses >= 20 ms", "delivered/expected", "send s", "goal"], rows)


def page_weight(d: dict[str, Any]) -> str:
    goal = d["goal_gzip"]
    return table(["page", "requests", "raw KB", "gzip KB", "gzip KB w/o fonts+images",
                  "icon font KB", "JS errors", "< 130 KB gzip (all)",
                  "< 130 KB (w/o fonts+images)"],
                 [[k, v["requests"], kb(v["raw"]), kb(v["gzip"]),
                   kb(v["gzip_without_fonts_images"]), kb(v["gzip_by_type"].get("font", 0)),
                   len(v.get("errors", [])),
                   *((verdict(v["gzip"] < goal), verdict(v["gzip_without_fonts_images"] < goal))
                     if k.startswith("/hub/portal") else ("(hub page)", "(hub page)"))]
                  for k, v in d["pages"].items()])


def restart(d: dict[str, Any]) -> str:
    ratio = d["ratio_of_medians"]
    return table(["restart to JupyterLab answering", "median s", "runs (s)"], [
        ["portal (API, wait=true)", d["portal_median_s"], ", ".join(map(str, d["portal_s"]))],
        ["bare docker restart + first answer", d["docker_floor_median_s"],
         ", ".join(map(str, d["docker_floor_s"]))],
    ]) + f"\n\nratio of medians {ratio} (goal <= {d['goal_ratio']}): {verdict(ratio <= 1.1)}"


def memory(d: dict[str, Any]) -> str:
    base = d["stages"][0]["rss_mib"]
    return table(["stage", "hub RSS MiB", "vs start MiB", "peak MiB"],
                 [[s["stage"], s["rss_mib"], round(s["rss_mib"] - base, 1), s["peak_mib"]]
                  for s in d["stages"]])


def volume_modal(d: dict[str, Any]) -> str:
    rows = []
    for code, r in d["runs"].items():
        f = r["flood"]
        rows.append([code, r["prober, no flood"]["p99_ms"], r["prober, flood"]["p99_ms"],
                     r["prober, flood"]["max_ms"], gc_text(r["prober, flood"]),
                     ", ".join(map(str, r["restart s, no flood"])),
                     ", ".join(map(str, r["restart s, flood"])),
                     f"{f['ok']}/{f['requests']}", f.get("modal_p50_ms", "-"),
                     f.get("modal_p99_ms", "-"), r["size measurements logged"]])
    return table(["code", "/hub/health p99 ms, no flood", "p99 ms, flood", "max ms, flood",
                  "hub GC pauses >= 20 ms, flood", "other's restarts s, no flood",
                  "other's restarts s, flood", "modal answered fine/sent", "modal p50 ms",
                  "modal p99 ms", "size computations logged"], rows)
def swarm_spawn(d: dict[str, Any]) -> str:
    from .swarm_spawn import report

    return report(d)


def main() -> None:
    sections = []
    latest = None
    for name, title, render in (
        ("responsiveness", "1. Responsiveness (/hub/health every 20 ms)", responsiveness),
        ("portal_speed", "2. Portal speed (50 users)", portal_speed),
        ("page_weight", "4. Page weight (cold cache, Chromium)", page_weight),
        ("restart", "5. Restart to JupyterLab answering", restart),
        ("memory", "6. Hub memory", memory),
        ("volume_modal", "7. Volume modal flood (50 openings a second)", volume_modal),
        ("swarm_spawn", "7. Spawning many labs: 2-node Swarm vs one engine", swarm_spawn),
    ):
        d = load(name)
        if d:
            latest = latest or d["machine"]
            sections.append((title, render(d), d["machine"]["date"]))
    files = {p.stem.removeprefix("broadcast_fanout").lstrip("_") or "portal default":
             json.loads(p.read_text()) for p in sorted(RESULTS.glob("broadcast_fanout*.json"))}
    runs = {}
    for key, d in files.items():
        label = f"concurrency {d['concurrency']}" + (
            " (portal default)" if key == "portal default" else f" ({key})")
        # Runs with --before hold one result per code version.
        for code, r in d.get("runs", {"": d}).items():
            runs[f"{label} {code}".strip()] = {"goal_s": d["goal_s"], **r,
                                               "machine": d["machine"]}
    if runs:
        date = max(d["machine"]["date"] for d in runs.values())
        sections.insert(2, ("3. Broadcast fan-out", broadcast(runs), date))
    if latest:
        m = latest
        print(f"Machine: {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, kernel "
              f"{m['kernel']}, Docker {m['docker']}, Python {m['python']}\n")
    for title, body, date in sections:
        print(f"### {title}\n\n_run {date}_\n\n{body}\n")


if __name__ == "__main__":
    main()
