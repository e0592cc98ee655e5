"""Scenarios of the access issues: S5 (one-call snapshot at the rate limit, beside the official-SDK loop a user
writes today), S6 (one listing across 4 orgs, each with its own limit) and R1 (findings and diff of two snapshots).

The same rules as S1–S4 hold: every row is its own subprocess against fresh sandbox processes, requests and 429s
are counted by the sandboxes, and every ratio divides figures of this one run.
"""

from __future__ import annotations

import math
from pathlib import Path

from .harness import PROJECT_PYTHON, Row, SandboxSpec, Target, check, fmt, mib, ratio, run_child, table, times
from .scenarios import GNB, Bench, Scenario

HERE = Path(__file__).resolve().parent
SDK_USERS_PAGE = 500  # the SDK loop lists users 500 a page


# -- S5 -------------------------------------------------------------------------------------------------------------
S5_GNB = f"{GNB} client.snapshot(path): every table"
S5_SDK = "official SDK loop: get_users, then per user get_authorization_subject + get_user_queues"


def s5(b: Bench) -> Scenario:
    """A one-call snapshot holds the API's rate limit; the per-user SDK loop pays per user."""
    z = b.sizes
    allowed, window = z.s5_rate
    per_s = allowed / window
    spec = SandboxSpec(z.s5_users, z.s5_latency_ms, allowed, window)
    sc = Scenario("S5", "one-call access snapshot (rate-limit bound)",
                  f"A snapshot of a {z.s5_users:,}-user sandbox org (every table: users with their expands, "
                  f"divisions, roles, grants per role, groups and members, queues and members, licences; "
                  f"`client.snapshot(path)` with default settings, planning included), {z.s5_latency_ms:g} ms latency "
                  f"per request, {allowed} requests per {window:g} s. Bound: the requests the sandbox counted / "
                  f"the allowed rate. Beside it, the access loop a user writes today with the official SDK "
                  f"(list users, then per user `get_authorization_subject` and every page of `get_user_queues`): "
                  f"at this rate it needs hours for the whole org, so it runs on the first {z.s5_sample_users:,} "
                  f"users (one page of the users listing) and its time is extrapolated to all {z.s5_users:,} "
                  f"users by its request count.")
    b.log(f"S5: {sc.setup}")
    snap = b.gnb(S5_GNB, spec, ["--out", str(b.out / "s5-snapshot")], script="gnb_snapshot.py")
    sample = b.peer(f"{S5_SDK} (first {z.s5_sample_users:,} users, measured)", "sdk", "sdk_access_loop.py", spec,
                    env={"BENCH_SAMPLE_USERS": str(z.s5_sample_users)}, expect=z.s5_sample_users)
    res = snap.extra.get("result", {}) if snap.measured else {}
    bound = snap.requests / per_s if snap.measured else math.nan
    rows: list[list] = []
    if snap.measured:
        rows.append([snap.tool, snap.wall_s, snap.requests, snap.rate_limited, mib(snap.peak_rss_mib), snap.records,
                     "1.00×", f"plan {res['plan_requests']:,} + planning {res['probe_requests']:,} requests"])
    else:
        rows.append([snap.tool, "–", "–", "–", "–", "–", "–", f"skipped: {snap.skipped}"])
    full = _sdk_extrapolated(sample, z.s5_users)
    if sample.measured:
        rows.append([sample.tool, sample.wall_s, sample.requests, sample.rate_limited, mib(sample.peak_rss_mib),
                     sample.records, times(ratio(sample.wall_s, snap.wall_s)), "measured on the sample"])
        rows.append([f"{S5_SDK} (all {z.s5_users:,} users, extrapolated)", full.wall_s, full.requests, "–", "–",
                     z.s5_users, times(ratio(full.wall_s, snap.wall_s)),
                     f"extrapolated: sample time × {full.requests:,} / {sample.requests:,} requests "
                     f"({full.wall_s / 3600:.1f} h)"])
    else:
        rows.append([sample.tool, "–", "–", "–", "–", "–", "–", f"skipped: {sample.skipped}"])
    rows.append(["bound: snapshot requests / allowed rate", bound, snap.requests, 0, "–", "–",
                 times(ratio(bound, snap.wall_s)), f"{allowed} per {window:g} s"])
    headers = ("tool", "wall s", "requests", "429s received", "peak RSS MiB", "users", "ratio to the snapshot",
               "note")
    sc.tables.append(table(headers, rows))
    sc.rows = [snap, sample, full]
    if snap.measured:
        sc.tables.append(table(
            ("plan: requests", "manifest: requests sent", "planning requests", "sandbox: requests counted",
             "rate bound s", "wall s", "wall / bound"),
            [[res["plan_requests"], res["requests_sent"], res["probe_requests"], snap.requests, bound, snap.wall_s,
              times(ratio(snap.wall_s, bound))]]))
        table_s = res.get("table_s", {})
        sc.tables.append(table(("table", "rows", "requests", "seconds", "rate bound s", "seconds / rate bound"),
                               [[name, res["tables"][name], res["table_requests"].get(name, 0),
                                 table_s.get(name, math.nan), res["table_requests"].get(name, 0) / per_s,
                                 times(ratio(table_s.get(name, math.nan), res["table_requests"].get(name, 0) / per_s))]
                                for name in res["tables"]]))
    sent_gap = abs(res["requests_sent"] - res["plan_requests"]) if snap.measured else math.nan
    sc.targets += [
        check("S5", "snapshot within 1.10× of the rate bound", ratio(snap.wall_s, bound), 1.10,
              detail=f"{fmt(snap.wall_s)} s vs {fmt(bound)} s", cause=lambda: _s5_cause(snap, bound)),
        check("S5", "requests sent equal the plan's count", float(sent_gap), 0, unit="",
              detail=(f"plan {res['plan_requests']:,}, sent {res['requests_sent']:,}" if snap.measured else "")),
        check("S5", "snapshot receives zero 429s", float(snap.rate_limited) if snap.measured else math.nan, 0,
              unit=""),
    ]
    if snap.measured and sample.measured:
        sc.notes.append(f"The official-SDK loop sends {full.requests / max(1, z.s5_users):.2f} requests per user; "
                        f"at {allowed} per {window:g} s the whole org would take about {full.wall_s / 3600:.1f} h "
                        f"({times(ratio(full.wall_s, snap.wall_s))} the snapshot), and it still has no groups' "
                        f"members, licences or skills. The sample received {sample.rate_limited:,} 429s, retried "
                        f"silently by urllib3 under the SDK.")
    # The sample is shorter than the snapshot only because it covers 1 % of the users: chart the whole-org figure.
    shown = [Row(f"{GNB} snapshot", wall_s=snap.wall_s), Row("official SDK per-user loop (extrapolated)",
                                                             wall_s=full.wall_s)]
    sc.chart = {"rows": [r for r in shown if not math.isnan(r.wall_s)], "log": True,
                "bounds": {"snapshot requests / rate": bound}}
    return sc


def _sdk_extrapolated(sample: Row, org_users: int) -> Row:
    """The SDK loop over the whole org: its requests per user on the sample, times the org's users, plus the users
    listing's pages; its time is the sample's time scaled by that request count (the loop is rate-bound)."""
    tool = f"{S5_SDK} (all {org_users:,} users, extrapolated)"
    if not sample.measured or not sample.records:
        return Row(tool, skipped="the sample did not run")
    res = sample.extra["result"]
    per_user = (res["requests"] - 1) / sample.records
    requests = math.ceil(org_users / SDK_USERS_PAGE) + round(per_user * org_users)
    return Row(tool, wall_s=sample.wall_s * requests / res["requests"], requests=requests, records=org_users,
               note="extrapolated", extra={"per_user": per_user})


def _s5_cause(snap: Row, bound: float) -> str:
    if not snap.measured:
        return "the row did not run"
    res = snap.extra["result"]
    return (f"{snap.requests:,} requests in {snap.wall_s:.1f} s against a bound of {bound:.1f} s; the governor "
            f"waited {res.get('governor_waited_s', math.nan):.1f} s in {res.get('governor_waits', 0)} waits, so "
            f"{snap.wall_s - res.get('governor_waited_s', 0):.1f} s went to requests and writing")


# -- S6 -------------------------------------------------------------------------------------------------------------
def s6(b: Bench) -> Scenario:
    """Many orgs: each has its own limit, so a run across them should cost the slowest org, not the sum."""
    z = b.sizes
    allowed, window = z.s6_rate
    requests = math.ceil(z.s6_users / 100)  # the cursor listing, 100 a page
    org_bound = requests / (allowed / window)
    latency_bound = requests * z.s6_latency_ms / 1000
    specs = [SandboxSpec(z.s6_users, z.s6_latency_ms, allowed, window, seed=seed) for seed in range(1, z.s6_orgs + 1)]
    sc = Scenario("S6", "one listing across several orgs (each its own rate limit)",
                  f"{z.s6_orgs} sandbox orgs (seeds 1–{z.s6_orgs}, each its own sandbox process), {z.s6_users:,} users "
                  f"each, {z.s6_latency_ms:g} ms latency, each org limited to {allowed} requests per {window:g} s "
                  f"({allowed / window * 60:g} a minute). The window is shortened from the API's 60 s so that every "
                  f"org is rate-bound within the run: with 60 s windows a listing of {requests} requests "
                  f"would pass in one window and never wait (a window's quota may go out at once, so a "
                  f"single org can end a little under the rate bound). Every org runs the same listing (`client.users("
                  f"state=\"any\", page_size=100).to_polars()`), first one org after another, then all at once "
                  f"with `gnb.across` (`benchmarks/across.py`). Bound per org: {requests} requests / allowed rate "
                  f"= {org_bound:.1f} s.")
    b.log(f"S6: {sc.setup}")
    cmd = [str(PROJECT_PYTHON), str(HERE / "across.py"), "--urls-from-env", "--mode"]
    seq = b.row(f"{GNB}, {z.s6_orgs} orgs one after another", [*cmd, "sequential"], specs)
    acr = b.row(f"{GNB} gnb.across, {z.s6_orgs} orgs at once", [*cmd, "across"], specs)
    org_s = seq.extra["result"]["sequential"]["org_s"] if seq.measured else {}
    slowest_org = max(org_s, key=org_s.get) if org_s else None
    slowest = org_s[slowest_org] if slowest_org else math.nan
    rows: list[list] = []
    per = seq.extra.get("sandbox", {}).get("per_sandbox", []) if seq.measured else []
    for i, (org, secs) in enumerate(org_s.items()):
        counted = per[i]["api_requests"] if i < len(per) else None
        rows.append([f"{org} alone (within the sequential run)", secs, counted, times(ratio(secs, org_bound)),
                     times(ratio(secs, slowest))])
    for r in (seq, acr):
        rows.append([r.tool, r.wall_s, r.requests, "–", times(ratio(r.wall_s, slowest))] if r.measured
                    else [r.tool, "–", "–", "–", f"skipped: {r.skipped}"])
    rows.append(["bound: one org's requests / allowed rate", org_bound, requests, "1.00×",
                 times(ratio(org_bound, slowest))])
    rows.append(["(for scale) one org's requests × latency, no limit", latency_bound, requests,
                 times(ratio(latency_bound, org_bound)), times(ratio(latency_bound, slowest))])
    sc.tables.append(table(("run", "wall s", "requests", "ratio to one org's rate bound",
                            "ratio to the slowest single org"), rows))
    sc.rows = [seq, acr]
    sc.targets += [
        check("S6", "across within 1.2× of the slowest single org", ratio(acr.wall_s, slowest), 1.2,
              detail=f"{fmt(acr.wall_s)} s vs {fmt(slowest)} s ({slowest_org})",
              cause=lambda: _s6_cause(acr, slowest, org_bound)),
        check("S6", "the limit binds (the slowest single org takes at least 2× its requests × latency)",
              ratio(slowest, latency_bound), 2.0, at_most=False,
              detail=f"{fmt(slowest)} s vs {latency_bound:.1f} s; rate bound {org_bound:.1f} s"),
        check("S6", "across receives zero 429s", float(acr.rate_limited) if acr.measured else math.nan, 0, unit=""),
    ]
    if seq.measured and acr.measured:
        sc.notes.append(f"Sequential / across: {times(ratio(seq.wall_s, acr.wall_s))}; the orgs' rows and counts "
                        f"agree: {seq.records:,} users in each run.")
    sc.chart = {"rows": [r for r in (seq, acr) if r.measured],
                "bounds": {"one org's rate bound": org_bound, "slowest single org": slowest}}
    return sc


def _s6_cause(row: Row, slowest: float, bound: float) -> str:
    if not row.measured:
        return "the row did not run"
    org_s = row.extra["result"]["across"]["org_s"]
    return ("each org's time within the concurrent run: " + ", ".join(f"{k} {v:.1f} s" for k, v in org_s.items())
            + f" (bound {bound:.1f} s, slowest alone {slowest:.1f} s)")


# -- R1 -------------------------------------------------------------------------------------------------------------
R1_GOAL_S = 5.0


def r1(b: Bench) -> Scenario:
    """An access review's own computation: findings of one snapshot and the diff of two, no network."""
    z = b.sizes
    sc = Scenario("R1", "findings and diff of two snapshots",
                  f"Two synthetic {z.r1_users:,}-user snapshot folders of one org a quarter apart (random churn in "
                  f"every table: about {4 * z.r1_users:,} role rows, {2 * z.r1_users:,} group and queue memberships "
                  f"each), written before timing; timed: `gnb.findings(new)` and `gnb.diff(old, new)` "
                  f"(`benchmarks/review_speed.py`).")
    b.log(f"R1: {sc.setup}")
    child = run_child([str(PROJECT_PYTHON), str(HERE / "review_speed.py"), "--users", str(z.r1_users),
                       "--target-s", str(R1_GOAL_S)], log_path=b.logs / "r1.log", result_path=b.logs / "r1.json")
    res = child.result
    if res is None:
        last = child.log_tail.splitlines()[-1] if child.log_tail else "no output"
        b.log(f"  R1 FAILED (exit {child.returncode}): {last}\n{child.log_tail}")
        sc.notes.append(f"review_speed.py failed (exit {child.returncode}): {last}")
        sc.targets.append(Target("R1", f"findings and diff under {R1_GOAL_S:g} s", "not measured", None))
        return sc
    b.log(f"  findings {res['findings_s']:.2f} s, diff {res['diff_s']:.2f} s, together {res['seconds']:.2f} s")
    sc.tables.append(table(("users", "findings s", "finding rows", "diff s", "change rows", "together s",
                            "peak RSS MiB"),
                           [[z.r1_users, res["findings_s"], res["findings"], res["diff_s"], res["changes"],
                             res["seconds"], mib(child.peak_rss_mib)]]))
    sc.targets.append(check("R1", f"findings and diff under {R1_GOAL_S:g} s", res["seconds"], R1_GOAL_S, unit=" s",
                            detail=f"findings {res['findings_s']:.2f} s + diff {res['diff_s']:.2f} s"))
    sc.rows = [Row("findings + diff", wall_s=res["seconds"], records=z.r1_users, peak_rss_mib=child.peak_rss_mib)]
    return sc


SCENARIOS = {"S5": s5, "S6": s6, "R1": r1}
NEEDS: dict[str, tuple[str, ...]] = {"S5": ("sdk",), "S6": (), "R1": ()}
