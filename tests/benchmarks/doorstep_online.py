"""The online door-step check (issue 15): recall, precision and latency over HTTP on loopback.

    python -m tests.benchmarks.doorstep_online [--entries 10000 --entries 100000]
        [--stored 300000] [--queries 1500] [--backend postgresql|sqlite]

A generated drive (``sync.synthetic.generate_drive``): its first 80% in stream order is the
store (its first signatures, bulk-written as counted entries by ``ingest.prefill``), the last
20% are the people at the door: repeats of stored signers typed by another circulator with the
generator's errors (nicknames, typos, dropped units, ...), new signers (many of them household
members or neighbours of stored ones), and repeats of people first seen in that same 20% (not
stored: a right answer is "no"). A sample of them is checked over HTTP against a real server
process (`canvass-server serve`), one request after another, as a circulator's tablet would.

Per answer: a positive is "probably_signed" (the warning); the truth is "this person's first
signature is stored". Recall = warned repeats / repeats at the door; precision = warned
repeats / warnings. The baseline in the same run: the tablet's exact-key index (the device's
offline check today: any of the person's matching keys among the stored ones). Latency:
median / p95 of the check's round trip, and the ratio to a GET /healthz round trip (the
loopback floor) measured in the same run. ``--stored`` sizes measure latency only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from . import ingest

RATE = "1000000/60000000"  # the benchmark's device is not a circulator: no door-step limit


def _server(db_url: str, workdir: Path):
    from sync.server.config import ENV_DOORSTEP_RATE

    return ingest._server_helpers().serve_subprocess(
        db_url, env={ENV_DOORSTEP_RATE: RATE}, output=workdir / f"server-{time.time_ns()}.log")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _checks(handle, token: str, people: list[dict]) -> tuple[list[str], list[float], float]:
    """Answers and round-trip seconds of each check; the median /healthz round trip."""
    import httpx

    from sync.protocol import MATCHED_FIELDS, PROTOCOL_VERSION

    answers, seconds = [], []
    with httpx.Client(base_url=handle.url, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:
        floor = []
        for _ in range(50):
            t0 = time.perf_counter()
            client.get("/healthz").raise_for_status()
            floor.append(time.perf_counter() - t0)
        for fields in people:
            body = {"protocol_version": PROTOCOL_VERSION, **{k: fields.get(k, "") for k in MATCHED_FIELDS}}
            t0 = time.perf_counter()
            r = client.post("/v1/doorstep/check", json=body)
            seconds.append(time.perf_counter() - t0)
            if r.status_code == 422:  # the drive's rare line without a name: no check
                answers.append("incomplete")
                continue
            r.raise_for_status()
            answers.append(r.json()["answer"])
    return answers, seconds, statistics.median(floor)


def _door(drive, cut: int, queries: int, seed: int):
    stored = [e for e in drive.entries[:cut] if not e.is_repeat]
    stored_people = {e.person_id for e in stored}
    wave = drive.entries[cut:]
    sample = random.Random(seed).sample(wave, min(queries, len(wave)))
    return stored, sample, [e.person_id in stored_people for e in sample]


def _scores(positive: list[bool], truth: list[bool]) -> tuple[int, int, int, float, float]:
    tp = sum(p and t for p, t in zip(positive, truth, strict=True))
    flagged, repeats = sum(positive), sum(truth)
    return tp, flagged, repeats, (tp / flagged if flagged else 1.0), (tp / repeats if repeats else 1.0)


def quality_run(n: int, queries: int, backend: str, workdir: Path, seed: int) -> list[dict]:
    from sync.matching import matching_keys
    from sync.synthetic import generate_drive

    drive = generate_drive(n, seed=seed)
    cut = int(len(drive.entries) * 0.8)
    stored, sample, truth = _door(drive, cut, queries, seed)
    rows = []
    with ingest.fresh_database(backend, workdir) as url, _server(url, workdir) as handle:
        cid = handle.create_campaign(name="Doorstep", goal=2_000_000, deadline="2030-01-01")
        written, prefill_s = ingest.prefill(handle.db, handle.keys, cid, drive, len(stored))
        token = handle.enroll_device(cid, "bench tablet").device_token
        answers, seconds, floor = _checks(handle, token, [e.fields for e in sample])
        from sync.server.admin import campaign_index_key
        from sync.server.models import Campaign

        with handle.db.read() as s:
            index_key = campaign_index_key(handle.keys, s.get(Campaign, cid))
    held = {k for e in stored for k in matching_keys(index_key, e.fields)}
    offline = [bool(set(matching_keys(index_key, e.fields)) & held) for e in sample]
    p50, p95 = _pct(seconds, 0.5) * 1000, _pct(seconds, 0.95) * 1000
    for label, positive in (
            ("online: probably_signed", [a == "probably_signed" for a in answers]),
            ("online: probably_signed or maybe", [a in ("probably_signed", "maybe") for a in answers]),
            ("baseline: tablet's exact keys", offline)):
        tp, flagged, repeats, precision, recall = _scores(positive, truth)
        rows.append({"entries": n, "stored": written, "checked": len(sample), "answer": label,
                     "repeats": repeats, "warned": flagged, "right": tp,
                     "recall": round(recall, 4), "precision": round(precision, 4),
                     "p50_ms": round(p50, 1) if label.startswith("online: probably_signed") and
                     "maybe" not in label else "",
                     "p95_ms": round(p95, 1) if label == "online: probably_signed" else "",
                     "p50_vs_healthz": round(p50 / (floor * 1000), 1) if label == "online: probably_signed"
                     else "", "prefill_s": round(prefill_s)})
    # What the misses were (the generator's error kinds), for the limits section.
    misses: dict[str, int] = {}
    for e, a, t in zip(sample, answers, truth, strict=True):
        if t and a != "probably_signed":
            for kind in (e.errors or ("identical",)) if e.is_repeat else ("repeat_of_unstored",):
                misses[f"{kind} -> {a}"] = misses.get(f"{kind} -> {a}", 0) + 1
    rows[0]["misses"] = dict(sorted(misses.items(), key=lambda kv: -kv[1])[:12])
    return rows


def latency_run(stored_n: int, queries: int, backend: str, workdir: Path, seed: int) -> dict:
    from sync.synthetic import generate_drive

    t0 = time.perf_counter()
    drive = generate_drive(int(stored_n / 0.94 / 0.8) + 10, seed=seed)
    generate_s = time.perf_counter() - t0
    cut = int(len(drive.entries) * 0.8)
    stored, sample, truth = _door(drive, cut, queries, seed)
    with ingest.fresh_database(backend, workdir) as url, _server(url, workdir) as handle:
        cid = handle.create_campaign(name="Doorstep", goal=2_000_000, deadline="2030-01-01")
        written, prefill_s = ingest.prefill(handle.db, handle.keys, cid, drive, min(stored_n, len(stored)))
        token = handle.enroll_device(cid, "bench tablet").device_token
        answers, seconds, floor = _checks(handle, token, [e.fields for e in sample])
    tp, flagged, repeats, precision, recall = _scores([a == "probably_signed" for a in answers], truth)
    return {"stored": written, "checked": len(sample), "p50_ms": round(_pct(seconds, 0.5) * 1000, 1),
            "p95_ms": round(_pct(seconds, 0.95) * 1000, 1),
            "p99_ms": round(_pct(seconds, 0.99) * 1000, 1),
            "healthz_p50_ms": round(floor * 1000, 2),
            "p95_vs_healthz": round(_pct(seconds, 0.95) / floor, 1),
            "recall": round(recall, 4), "precision": round(precision, 4),
            "generate_s": round(generate_s), "prefill_s": round(prefill_s)}


def _table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = [" | ".join(c.ljust(widths[c]) for c in columns),
             "-|-".join("-" * widths[c] for c in columns)]
    lines += [" | ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, action="append")
    parser.add_argument("--stored", type=int, action="append", default=[])
    parser.add_argument("--queries", type=int, default=1500)
    parser.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args(argv)
    if args.backend == "postgresql" and not ingest.pg_available():
        raise SystemExit("PostgreSQL is not reachable (CANVASS_TEST_PG)")
    with tempfile.TemporaryDirectory(prefix="canvass-doorstep-") as tmp:
        workdir = Path(tmp)
        quality = []
        for n in args.entries or ([] if args.stored else [10_000, 100_000]):
            quality += quality_run(n, args.queries, args.backend, workdir, args.seed)
            print(f"... {n} entries done", flush=True)
        if quality:
            print(f"\nDoor-step answers ({args.backend}, HTTP on loopback, one device, one check at a time)")
            print(_table(quality, ["entries", "stored", "checked", "answer", "repeats", "warned", "right",
                                   "recall", "precision", "p50_ms", "p95_ms", "p50_vs_healthz",
                                   "prefill_s"]))
            for row in quality:
                if "misses" in row:
                    print(f"misses at {row['entries']}: {row['misses']}")
        latency = [latency_run(n, args.queries, args.backend, workdir, args.seed) for n in args.stored]
        if latency:
            print(f"\nDoor-step latency with a large store ({args.backend})")
            print(_table(latency, ["stored", "checked", "p50_ms", "p95_ms", "p99_ms", "healthz_p50_ms",
                                   "p95_vs_healthz", "recall", "precision", "generate_s", "prefill_s"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
