"""What grew in a worker between two snapshots of `bench/soak.py --tracemalloc DIR`.

    .venv/bin/python bench/tracemalloc_diff.py DIR [--pid PID] [--from SECONDS] [--to SECONDS]
        [--top 25] [--group lineno|traceback|filename] [--frames 6]

Takes the worker's snapshot nearest --from (default: the second one) and the last one
(or nearest --to), and prints the memory figures of every snapshot (RSS, traced,
glibc's heap), then the allocation sites that grew most (statistics compared by
`--group`), and the object types whose count grew.
"""

from __future__ import annotations

import argparse
import json
import re
import tracemalloc
from pathlib import Path

_SNAP = re.compile(r"worker-(\d+)-(\d+)\.snap$")


def print_figures(jsonl: Path) -> None:
    lines = [json.loads(x) for x in jsonl.read_text().splitlines()]
    print(f"{jsonl.stem}:")
    print(
        f"{'t s':>6s} {'RSS MB':>8s} {'traced MB':>9s} {'arena MB':>9s} {'in use MB':>9s} "
        f"{'free MB':>8s} {'mmap MB':>8s} {'objects':>9s} {'threads':>7s} {'arenas':>6s} "
        f"{'sqlite MB':>9s} {'pyblocks':>9s}"
    )
    for x in lines:
        mi = x["mallinfo"]
        print(
            f"{x['t']:6.0f} {x['rss_kb'] / 1024:8.1f} {x['traced'] / 2**20:9.1f} "
            f"{mi.get('arena', 0) / 2**20:9.1f} {mi.get('uordblks', 0) / 2**20:9.1f} "
            f"{mi.get('fordblks', 0) / 2**20:8.1f} {mi.get('hblkhd', 0) / 2**20:8.1f} "
            f"{x['gc_objects']:9d} {x['threads']:7d} {len(x.get('heaps', [])):6d} "
            f"{(x.get('sqlite_memory') or 0) / 2**20:9.1f} {x.get('pymalloc_blocks', 0):9d}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--from", dest="start", type=float)
    ap.add_argument("--to", dest="end", type=float)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--group", default="traceback", choices=["lineno", "traceback", "filename"])
    ap.add_argument("--frames", type=int, default=6, help="frames shown per traceback")
    args = ap.parse_args()
    out = Path(args.dir)
    snaps: dict[int, list[tuple[float, Path]]] = {}
    for p in out.glob("worker-*.snap"):
        m = _SNAP.search(p.name)
        snaps.setdefault(int(m.group(1)), []).append((float(m.group(2)), p))
    for jsonl in sorted(out.glob("worker-*.jsonl")):
        print_figures(jsonl)
    if not snaps:
        return
    pid = args.pid or next(iter(sorted(snaps)))
    series = sorted(snaps[pid])

    def nearest(t: float | None, default: int) -> tuple[float, Path]:
        if t is None:
            return series[default]
        return min(series, key=lambda s: abs(s[0] - t))

    (t0, p0), (t1, p1) = nearest(args.start, min(1, len(series) - 1)), nearest(args.end, -1)
    lines = [json.loads(x) for x in (out / f"worker-{pid}.jsonl").read_text().splitlines()]
    minutes = (t1 - t0) / 60
    print(f"\ncompare {p0.name} -> {p1.name} ({minutes:.1f} min), grouped by {args.group}")
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
    ]
    s0 = tracemalloc.Snapshot.load(str(p0)).filter_traces(ignore)
    s1 = tracemalloc.Snapshot.load(str(p1)).filter_traces(ignore)
    diff = s1.compare_to(s0, args.group)
    total = sum(d.size_diff for d in diff)
    print(
        f"traced total {sum(d.size for d in diff) / 2**20:.2f} MB, "
        f"change {total / 2**20:+.2f} MB ({total / 2**20 / max(minutes, 1e-9):+.3f} MB/min)"
    )
    for d in diff[: args.top]:
        print(
            f"\n{d.size_diff / 1024:+9.1f} KiB  {d.count_diff:+7d} blocks  "
            f"(now {d.size / 1024:.1f} KiB in {d.count} blocks)"
        )
        frames = d.traceback if args.group == "traceback" else d.traceback[:1]
        for frame in list(frames)[-args.frames :]:
            print(f"      {frame.filename}:{frame.lineno}")
    by_t = {x["t"]: dict(x["types"]) for x in lines}
    a = by_t.get(min(by_t, key=lambda t: abs(t - t0)), {})
    b = by_t.get(min(by_t, key=lambda t: abs(t - t1)), {})
    grown = sorted(((b.get(k, 0) - a.get(k, 0), k) for k in set(a) | set(b)), reverse=True)
    print("\nobject types (40 most numerous at each snapshot), count change:")
    for n, k in grown[:15]:
        print(f"  {n:+8d}  {k} (now {b.get(k, 0)})")


if __name__ == "__main__":
    main()
