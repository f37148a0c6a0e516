#!/usr/bin/env python3
"""The table of scripts/bench-viewer.sh from the viewer's --frame-log.

    frame_log_table.py FRAMES.log PROBE.json

FRAMES.log has one line per UI frame: seconds since start, frame ms, shown frame, processed
frames (further columns are ignored). PROBE.json is `ifa probe --json VIDEO` (for the frame count).
The first 2 seconds (start-up) are left out; the rest splits into "while inference runs" (fewer
frames processed than the video has) and "after processing".
"""

from __future__ import annotations

import json
import sys

STARTUP_S = 2.0
HEADER = [
    "| phase | frames | seconds | UI fps | median frame ms | p90 frame ms | inference fps |",
    "|---|---|---|---|---|---|---|",
]


def parse(lines) -> list[tuple[float, float, int, int]]:
    rows = [line.split() for line in lines if line.strip()]
    return [(float(r[0]), float(r[1]), int(r[2]), int(r[3])) for r in rows]


def phase_row(name: str, rows: list[tuple[float, float, int, int]], with_inference: bool) -> str:
    if len(rows) < 2:
        return f"| {name} | {len(rows)} | - | - | - | - | - |"
    span = rows[-1][0] - rows[0][0]
    times = sorted(r[1] for r in rows)
    inference = f"{(rows[-1][3] - rows[0][3]) / span:.1f}" if with_inference else "-"
    median, p90 = times[len(times) // 2], times[int(len(times) * 0.9)]
    return f"| {name} | {len(rows)} | {span:.1f} | {len(rows) / span:.1f} | {median:.1f} | {p90:.1f} | {inference} |"


def table(rows: list[tuple[float, float, int, int]], total: int) -> list[str]:
    rows = [r for r in rows if r[0] > STARTUP_S]
    running = [r for r in rows if r[3] < total]
    done = [r for r in rows if r[3] >= total]
    return [*HEADER, phase_row("while inference runs", running, True), phase_row("after processing", done, False)]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        rows = parse(f)
    with open(argv[1]) as f:
        total = int(json.load(f)["frame_count"])
    print("\n".join(table(rows, total)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
