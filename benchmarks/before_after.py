"""S1–S4 before and after a change, side by side: every judged ratio of two ``results.md`` files.

Each file is one whole ``python -m benchmarks`` run; only its ratios (which divide figures of that one run) are
compared, never absolute times, as the machine is shared and noisy.

    python benchmarks/before_after.py BEFORE/results.md AFTER/results.md [--only S1,S2,S3,S4] > before-after.md
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TARGET = re.compile(r"^- (PASS|MISS|N/A)  (S\d|R\d): (.+?): ([\d.,]+)(×| s|) \(limit ([≤≥]) ([\d.]+)")


def targets(path: Path) -> dict[tuple[str, str], tuple[float, str, str]]:
    """(scenario, target) -> (measured, unit, verdict) from the Targets section of a results.md."""
    out: dict[tuple[str, str], tuple[float, str, str]] = {}
    for line in path.read_text().splitlines():
        m = TARGET.match(line)
        if m:
            verdict, scenario, text, value, unit, _, _ = m.groups()
            out[(scenario, text)] = (float(value.replace(",", "")), unit, verdict)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", type=Path)
    p.add_argument("after", type=Path)
    p.add_argument("--only", default="S1,S2,S3,S4")
    a = p.parse_args(argv)
    keep = set(a.only.split(","))
    before, after = targets(a.before), targets(a.after)
    print("| scenario | target | ratio before | ratio after | verdict before → after |")
    print("|---|---|--:|--:|---|")
    for key in [k for k in before if k[0] in keep] + [k for k in after if k[0] in keep and k not in before]:
        b, f = before.get(key), after.get(key)
        cell = (lambda t: f"{t[0]:.2f}{t[1]}" if t else "–")
        print(f"| {key[0]} | {key[1]} | {cell(b)} | {cell(f)} | {b[2] if b else '–'} → {f[2] if f else '–'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
