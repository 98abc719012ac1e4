"""PNG chart of ingest cost per entry against the number of entries already stored."""

from __future__ import annotations

from pathlib import Path


def cost_chart(ingest_rows: list[dict], path: Path) -> Path | None:
    if not ingest_rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    def fleet(r: dict) -> tuple[int, int]:
        return r.get("devices", 1), r.get("workers", 1)

    for backend in sorted({r["backend"] for r in ingest_rows}):
        mine = [r for r in ingest_rows if r["backend"] == backend]
        for devices, workers in sorted({fleet(r) for r in mine}):
            rows = sorted((r for r in mine if fleet(r) == (devices, workers)), key=lambda r: r["stored"])
            xs = [max(r["stored"], 1) for r in rows]
            ax.plot(xs, [r["ms_per_entry"] for r in rows], marker="o",
                    label=f"{backend}: HTTP + dedup, {devices} device(s), {workers} worker(s)")
        rows = sorted(mine, key=lambda r: r["stored"])
        xs = [max(r["stored"], 1) for r in rows]
        ax.plot(xs, [1000 / r["plain_entries_per_s"] if r["plain_entries_per_s"] else 0 for r in rows],
                marker="x", linestyle="--", label=f"{backend}: plain INSERT")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("entries already stored")
    ax.set_ylabel("ms per entry")
    ax.set_title("Canvass ingest cost per entry vs store size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
