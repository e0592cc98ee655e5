"""Fast checks of the benchmark harness: tables, same-run ratios, PASS/MISS, report, chart, CLI on made-up numbers;
S5, S6 and R1 end to end at tiny sizes.

Only the tiny run starts sandboxes (no peer); ``make bench`` is the real run.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import chart, report, summary
from benchmarks.harness import Row, Target, check, fmt, ratio, table, tool_table
from benchmarks.scenarios import Scenario

ROOT = Path(__file__).resolve().parent.parent


def fake_rows() -> list[Row]:
    return [
        Row("genesys-nb default", wall_s=20.0, requests=100, rate_limited=0, peak_rss_mib=200.4, records=50_000,
            process_s=22.0),
        Row("peer A", wall_s=30.0, requests=101, rate_limited=2, peak_rss_mib=400.6, records=50_000, process_s=33.0),
        Row("peer B", skipped="cannot install: needs a Python < 3.12"),
        Row("bound: pages × latency", wall_s=10.0, requests=100, rate_limited=0, bound=True),
    ]


def test_ratio_and_formatting() -> None:
    assert ratio(30.0, 20.0) == 1.5
    assert math.isnan(ratio(1.0, 0.0)) and math.isnan(ratio(math.nan, 2.0))
    assert fmt(1234567) == "1,234,567" and fmt(2.345) == "2.35" and fmt(None) == "–" and fmt(math.nan) == "–"


def test_tool_table_divides_by_the_base_row_of_the_same_run() -> None:
    rows = fake_rows()
    text = tool_table(rows, rows[0])
    lines = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[1:-1]] for line in text.splitlines()[2:]}
    assert lines["genesys-nb default"][5] == "1.00×"
    assert lines["peer A"][5] == "1.50×"
    assert lines["peer A"][2] == "101" and lines["peer A"][3] == "2" and lines["peer A"][4] == "401"
    assert lines["bound: pages × latency"][5] == "0.50×" and lines["bound: pages × latency"][4] == "–"
    assert lines["peer B"][-1].startswith("skipped: cannot install")
    widths = {len(line) for line in text.splitlines()}
    assert len(widths) == 1, "columns are padded to one width"


def test_note_column_only_when_some_row_has_a_note() -> None:
    rows = fake_rows()[:2]
    assert "note" not in tool_table(rows, rows[0]).splitlines()[0]
    rows[1].note = "listed 49,000 of 50,000 users"
    assert tool_table(rows, rows[0]).splitlines()[0].rstrip(" |").endswith("note")


def test_table_alignment_rule() -> None:
    text = table(("tool", "n"), [["x", 1], ["yy", 22]])
    assert text.splitlines()[1] == "|------|---:|"


def test_targets_pass_miss_and_not_judged() -> None:
    ok = check("S1", "within 1.25× of the bound", 1.1, 1.25)
    miss = check("S1", "at least 2× faster", 1.4, 2.0, at_most=False, cause=lambda: "peers are concurrent too")
    na = check("S3", "share of ceiling", math.nan, 0.5, at_most=False)
    assert (ok.verdict, miss.verdict, na.verdict) == ("PASS", "MISS", "N/A")
    assert miss.line().startswith("MISS  S1: at least 2× faster: 1.40× (limit ≥ 2×)")
    assert miss.line().endswith("(peers are concurrent too)")
    assert ok.line() == "PASS  S1: within 1.25× of the bound: 1.10× (limit ≤ 1.25×)"
    assert summary([ok, miss, na])[-1] == "1 PASS, 1 MISS, 1 not judged."


def test_report_and_chart(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    rows = fake_rows()
    s1 = Scenario("S1", "fake", "setup", tables=[tool_table(rows, rows[0])],
                  targets=[Target("S1", "t", "1.00×", True)], notes=["n"],
                  chart={"rows": [r for r in rows if r.measured], "bounds": {"pages × latency": 10.0}})
    s3 = Scenario("S3", "cpu", "setup", chart={"gnb": 50_000.0, "ceiling": 150_000.0, "floor": 90_000.0})
    s4 = Scenario("S4", "memory", "setup", chart={"users": [10, 100, 1000], "parquet": [100.0, 110.0, 120.0],
                                                    "ndjson": [90.0, 95.0, 96.0]})
    md = report([s1, s3, s4], {"date": "today", "nproc": "2"}, 60.0, quick=True)
    assert "## S1: fake" in md and "| nproc | 2 |" in md and "1 PASS, 0 MISS, 0 not judged." in md
    png = tmp_path / "chart.png"
    chart([s1, s3, s4], png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_help_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert "--only" in out.stdout and "--quick" in out.stdout


def test_sdk_loop_is_extrapolated_by_its_request_count() -> None:
    from benchmarks.scenarios_access import _sdk_extrapolated

    sample = Row("sdk sample", wall_s=100.0, requests=1_101, records=500, extra={"result": {"requests": 1_101}})
    full = _sdk_extrapolated(sample, 50_000)
    assert full.requests == 100 + 110_000  # 100 pages of users, then 2.2 requests per user
    assert full.wall_s == pytest.approx(100.0 * full.requests / 1_101)
    assert _sdk_extrapolated(Row("sdk sample", skipped="no venv"), 50_000).skipped


def test_access_scenarios_run_end_to_end_at_tiny_sizes(tmp_path: Path) -> None:
    """S5, S6 and R1 against real sandbox processes, tiny: every table printed and every target judged (the SDK
    loop's venv is not prepared here, so its row is skipped with the reason)."""
    from benchmarks.scenarios import Bench, Sizes
    from benchmarks.scenarios_access import r1, s5, s6

    tiny = Sizes(s5_users=300, s5_latency_ms=0.0, s5_rate=(6_000, 60.0), s5_sample_users=10, s6_orgs=2,
                 s6_users=300, s6_latency_ms=1.0, s6_rate=(1_000, 1.0), r1_users=300)
    bench = Bench(tiny, venvs={}, log=lambda _: None)
    snap, across, review = s5(bench), s6(bench), r1(bench)
    assert "skipped: its environment was not prepared" in snap.text()
    verdicts = {t.text: t.verdict for sc in (snap, across, review) for t in sc.targets}
    assert verdicts["requests sent equal the plan's count"] == "PASS"
    assert verdicts["snapshot receives zero 429s"] == "PASS"
    assert verdicts["across receives zero 429s"] == "PASS"
    assert verdicts["findings and diff under 5 s"] == "PASS"
    assert all(v in ("PASS", "MISS") for v in verdicts.values()), verdicts
    assert across.rows[0].records == across.rows[1].records == 600
