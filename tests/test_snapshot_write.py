"""client.snapshot(): every table equals the sandbox's ground truth, the requests sent equal the plan, a killed
snapshot resumes with no duplicates, a forbidden table is recorded as skipped, and the folder appears only whole."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import polars as pl
import pytest

import genesys_nb as gnb
from genesys_nb.cli import main as cli_main
from genesys_nb.errors import ConfigError, ExportError, PermissionDenied
from genesys_nb.sandbox import truth
from genesys_nb.snapshot.plan import TABLES


def _same(got: pl.DataFrame, want: pl.DataFrame) -> bool:
    columns = [c for c in want.columns if c in got.columns]
    return got.select(columns).sort(columns).equals(want.select(columns).sort(columns))


def _manifest(path: Path) -> dict:
    return orjson.loads((path / "manifest.json").read_bytes())


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A snapshot of a 50,000-user sandbox org, and the org's ground truth."""
    folder = tmp_path_factory.mktemp("snap") / "org"
    with gnb.connect(sandbox={"users": 50_000, "rate_limit": None}) as client:
        snap = client.snapshot(folder, progress=False)
        yield snap, truth.tables(client.sandbox)


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_every_table_of_a_50000_user_snapshot_equals_the_ground_truth(big, table):
    snap, want = big
    got = snap.table(table).collect()
    assert got.height == want[table].height > 0
    if table == "users":
        assert sorted(got["id"]) == sorted(want["users"]["id"])
        assert got["date_last_login"].null_count() == want["users"]["date_last_login"].null_count()
    else:
        assert _same(got, want[table])


@pytest.mark.slow
def test_the_manifest_states_the_plan_and_the_population(big):
    snap, want = big
    m = _manifest(snap.path)
    assert m["format"] == "genesys-nb-snapshot" and m["org"]["id"] and m["api_host"]
    assert m["requests_sent"] == m["plan"]["requests"] == m["requests_this_run"]
    assert m["tables"]["users"]["api_total"] == m["tables"]["users"]["rows"] == 50_000
    assert all(m["tables"][t]["status"] == "complete" for t in TABLES)
    assert m["started"] <= m["finished"] and m["finished"].endswith("Z")
    assert not list(snap.path.parent.glob("*.partial"))


def test_a_forbidden_table_is_skipped_with_its_permission(tmp_path):
    with gnb.connect(sandbox={"users": 200, "rate_limit": None}, client_id="no-queues-client",
                     client_secret="no-queues-secret") as client:
        snap = client.snapshot(tmp_path / "s", progress=False)
        m = _manifest(snap.path)
        for name in ("queues", "queue_members"):
            assert m["tables"][name]["status"] == "skipped"
            assert m["tables"][name]["missing_permission"] == "routing:queue:view"
            assert not (snap.path / f"{name}.parquet").exists()
        assert _same(snap.table("user_roles").collect(), truth.user_roles(client.sandbox))
        with pytest.raises(PermissionDenied, match="routing:queue:view"):
            client.snapshot(tmp_path / "strict", strict=True, progress=False)
        assert not (tmp_path / "strict").exists() and not (tmp_path / "strict.partial").exists()


def test_chosen_tables_bring_what_they_are_computed_from(tmp_path):
    with gnb.connect(sandbox={"users": 200, "rate_limit": None}) as client:
        snap = client.snapshot(tmp_path / "s", tables=["user_roles"], progress=False)
        assert {"user_roles", "role_grants", "group_members"} <= set(_manifest(snap.path)["tables"])
        assert "users" not in _manifest(snap.path)["tables"]
        assert _same(snap.table("user_roles").collect(), truth.user_roles(client.sandbox))
        with pytest.raises(ConfigError, match="Unknown snapshot table"):
            client.snapshot(tmp_path / "t", tables=["userz"])


@pytest.mark.parametrize("over_cap", ["error", "clamp"])
def test_grants_members_and_licences_take_the_page_size_the_api_serves(tmp_path, over_cap):
    """Whether an over-cap pageSize is refused or clamped is unconfirmed: either way the plan counts the pages the
    API serves, and the snapshot sends exactly that."""
    settings = {"users": 1200, "rate_limit": None, "access_max_page_size": 100, "over_cap": over_cap}
    with gnb.connect(sandbox=settings) as client:
        snap = client.snapshot(tmp_path / "s", progress=False)
        m = _manifest(snap.path)
        assert m["requests_sent"] == m["plan"]["requests"]
        for table in ("role_grants", "group_members", "user_licenses"):
            assert _same(snap.table(table).collect(), getattr(truth, table)(client.sandbox)), table
        assert m["tables"]["user_licenses"]["requests"] > 1200 // 500 + 1  # pages of 100, not of 500


def test_licences_come_in_pages_of_500_where_the_api_takes_them(tmp_path):
    with gnb.connect(sandbox={"users": 1200, "rate_limit": None}) as client:
        snap = client.snapshot(tmp_path / "s", tables="user_licenses", progress=False)
        m = _manifest(snap.path)
        licensed = truth.user_licenses(client.sandbox)["user_id"].n_unique()
        assert m["tables"]["user_licenses"]["requests"] == -(-licensed // 500)
        assert m["requests_sent"] == m["plan"]["requests"]


def test_an_existing_folder_is_never_replaced_unless_asked(tmp_path):
    with gnb.connect(sandbox={"users": 50, "rate_limit": None}) as client:
        client.snapshot(tmp_path / "s", tables="roles", progress=False)
        with pytest.raises(ExportError, match="overwrite=True"):
            client.snapshot(tmp_path / "s", tables="roles", progress=False)
        client.snapshot(tmp_path / "s", tables="divisions", overwrite=True, progress=False)
        assert set(_manifest(tmp_path / "s")["tables"]) == {"divisions"}
        with pytest.raises(ExportError, match="does not exist"):
            client.snapshot(tmp_path / "no" / "s", progress=False)


def test_an_overwrite_clears_the_old_snapshot_an_interrupted_overwrite_left_aside(tmp_path):
    """<name>.replaced holds the old snapshot between the two renames of an overwrite; a run that stopped there left
    it behind, and the next overwrite used to fail with a raw OSError after all its requests."""
    import shutil

    with gnb.connect(sandbox={"users": 50, "rate_limit": None}) as client:
        client.snapshot(tmp_path / "s", tables="roles", progress=False)
        shutil.copytree(tmp_path / "s", tmp_path / "s.replaced")  # as the interrupted overwrite left it
        client.snapshot(tmp_path / "s", tables="divisions", overwrite=True, progress=False)
        assert set(_manifest(tmp_path / "s")["tables"]) == {"divisions"}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_an_overwrite_that_stopped_resumes_and_replaces_the_old_snapshot(tmp_path, monkeypatch):
    """resume=True used to answer 'exists already: pass overwrite=True', and overwrite=True 'pass resume=True'."""
    from genesys_nb.snapshot import writer

    with gnb.connect(sandbox={"users": 50, "rate_limit": None}) as client:
        client.snapshot(tmp_path / "s", tables="roles", progress=False)
        with monkeypatch.context() as m:
            m.setattr(writer, "_finish", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
            with pytest.raises(KeyboardInterrupt):
                client.snapshot(tmp_path / "s", tables="divisions", overwrite=True, progress=False)
        assert set(_manifest(tmp_path / "s")["tables"]) == {"roles"}  # the old one stays until the new is complete
        with pytest.raises(ExportError, match="A snapshot that stopped is in .*Pass resume=True"):
            client.snapshot(tmp_path / "s", tables="divisions", overwrite=True, progress=False)
        client.snapshot(tmp_path / "s", tables="divisions", resume=True, progress=False)
    assert set(_manifest(tmp_path / "s")["tables"]) == {"divisions"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


@pytest.mark.parametrize("plant, words", [
    ("link", "is a symbolic link, which genesys-nb neither follows nor deletes"),
    ("foreign", "holds no snapshot's manifest.json"),
    ("nested", "holds more than a snapshot's files"),
    ("file", "is not a folder"),
])
def test_anything_else_under_the_replaced_name_is_refused_before_any_request(tmp_path, plant, words):
    import shutil

    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "precious.txt").write_text("mine")
    with gnb.connect(sandbox={"users": 50, "rate_limit": None}) as client:
        client.snapshot(tmp_path / "s", tables="roles", progress=False)
        replaced = tmp_path / "s.replaced"
        if plant == "link":
            shutil.copytree(tmp_path / "s", keep / "snap")
            replaced.symlink_to(keep / "snap", target_is_directory=True)
        elif plant == "foreign":
            shutil.copytree(keep, replaced)
        elif plant == "nested":
            shutil.copytree(tmp_path / "s", replaced)
            (replaced / "sub").mkdir()
        else:
            replaced.write_text("x")
        sent = client.transport.counters.requests
        with pytest.raises(ExportError, match=f"s.replaced' is in the way: .*{re.escape(words)}.*Remove it"):
            client.snapshot(tmp_path / "s", tables="roles", overwrite=True, progress=False)
        assert client.transport.counters.requests == sent
    assert os.path.lexists(replaced) and (keep / "precious.txt").read_text() == "mine"
    assert plant != "link" or (keep / "snap" / "manifest.json").is_file()
    assert not (tmp_path / "s.partial").exists()


def test_resuming_a_complete_snapshot_says_there_is_nothing_to_resume(tmp_path, capsys):
    with gnb.connect(sandbox={"users": 50, "rate_limit": None}) as client:
        client.snapshot(tmp_path / "s", tables="roles", progress=False)
        sent = client.transport.counters.requests
        with pytest.raises(ExportError, match="is a complete snapshot: there is nothing to resume.*pass "
                                              "overwrite=True instead of resume=True"):
            client.snapshot(tmp_path / "s", tables="roles", resume=True, progress=False)
        assert client.transport.counters.requests == sent
    assert cli_main(["snapshot", str(tmp_path / "s"), "--sandbox", "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "nothing to resume" in err and "pass --overwrite instead of --resume" in err and "=True" not in err


def _cli_snapshot(folder: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "TQDM_DISABLE": "1"}
    env.pop("GENESYSCLOUD_OAUTHCLIENT_SECRET", None)
    args = [sys.executable, "-m", "genesys_nb.cli", "snapshot", str(folder), "--sandbox", "--sandbox-users", "3000",
            "--no-progress", *extra]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_killed_snapshot_resumes_with_no_duplicates(tmp_path):
    folder = tmp_path / "s"
    partial = tmp_path / "s.partial"
    proc = _cli_snapshot(folder)  # the sandbox's rate limit (300 a minute) keeps it running long enough
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not list(partial.glob("role_grants.parquet.checkpoint.json")):
        assert proc.poll() is None, proc.communicate()
        assert not folder.exists()
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert partial.is_dir() and not folder.exists()
    again = _cli_snapshot(folder, "--resume")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert "role_grants" in out and not partial.exists()
    with gnb.connect(sandbox={"users": 3000, "rate_limit": None}) as client:
        want = truth.tables(client.sandbox)
    snap = gnb.open_snapshot(folder)
    for table in TABLES:
        got = snap.table(table).collect()
        assert got.height == want[table].height, table
        if table != "users":
            assert _same(got, want[table]), table


def test_cli_plan_and_sql(tmp_path, capsys):
    assert cli_main(["snapshot", str(tmp_path / "s"), "--sandbox", "--sandbox-users", "100", "--plan"]) == 0
    plan = capsys.readouterr().out
    assert "role_grants" in plan and "requests a minute" in plan and not (tmp_path / "s").exists()
    assert cli_main(["snapshot", str(tmp_path / "s"), "--sandbox", "--sandbox-users", "100", "--no-progress",
                     "--tables", "users,user_roles"]) == 0
    summary = capsys.readouterr().out
    assert "user_roles" in summary and "planned" in summary
    assert cli_main(["sql", str(tmp_path / "s"), "select count(*) as n from users"]) == 0
    assert "100" in capsys.readouterr().out
    assert cli_main(["snapshot", str(tmp_path / "t"), "--sandbox", "--tables", "nope"]) == 2
    assert "--tables" in capsys.readouterr().err


@pytest.fixture
def north_and_south(tmp_path, monkeypatch):
    """Two sandbox profiles, north (120 users) and south (90), in the file $GENESYS_NB_PROFILES names."""
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.north]\nsandbox = true\nsandbox_seed = 7\nsandbox_users = 120\n\n'
                        '[profiles.south]\nsandbox = true\nsandbox_seed = 8\nsandbox_users = 90\n')
    profiles.chmod(0o600)
    monkeypatch.setenv("GENESYS_NB_PROFILES", str(profiles))


def test_one_snapshot_per_profile_from_the_cli(tmp_path, north_and_south, capsys):
    rc = cli_main(["snapshot", str(tmp_path / "orgs"), "--profile", "north", "--profile", "south", "--no-progress",
                   "--tables", "users,roles"])
    assert rc == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "== north" in out and "== south" in out
    north, south = gnb.open_snapshot(tmp_path / "orgs" / "north"), gnb.open_snapshot(tmp_path / "orgs" / "south")
    assert north.rows("users") == 120 and south.rows("users") == 90
    assert north.manifest.org.id != south.manifest.org.id


def test_one_snapshot_per_profile_speaks_flags_when_an_org_fails(tmp_path, north_and_south, capsys):
    """A folder that exists is a usage error in the shell's words (--overwrite), exit 2, as with one org."""
    args = ["snapshot", str(tmp_path / "orgs"), "--profile", "north", "--profile", "south", "--no-progress",
            "--tables", "users"]
    assert cli_main(args) == 0
    capsys.readouterr()
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    assert "north: " in err and "south: " in err and "--overwrite" in err
    assert "overwrite=True" not in err


# -- safety: one run per folder, planted links, a stopped snapshot changed before its resume -------------------------
def _stopped_snapshot(client, folder: Path, monkeypatch) -> Path:
    """A snapshot that stopped just before it was moved into place: every table written, the run's bookkeeping
    kept in ``<folder>.partial``."""
    from genesys_nb.snapshot import writer

    def boom(*args, **kwargs):
        raise RuntimeError("stopped")

    with monkeypatch.context() as m:
        m.setattr(writer, "_finish", boom)
        with pytest.raises(RuntimeError):
            client.snapshot(folder, tables=["users", "user_roles"], progress=False)
    partial = folder.with_name(folder.name + ".partial")
    assert (partial / "plan.json").is_file() and not folder.exists()
    return partial


def test_a_second_run_on_the_same_folder_stops_before_any_request(tmp_path):
    from genesys_nb.export.lock import OutputLock

    with gnb.connect(sandbox={"users": 50, "rate_limit": None}) as client:
        with OutputLock(tmp_path / "s"):  # as a run in progress holds it
            sent = client.transport.counters.requests
            for resume in (False, True):
                with pytest.raises(ExportError, match=r"A snapshot of 's' is already running, pid \d+"):
                    client.snapshot(tmp_path / "s", progress=False, resume=resume)
            assert client.transport.counters.requests == sent and not (tmp_path / "s.partial").exists()
        client.snapshot(tmp_path / "s", tables="roles", progress=False)  # once it has finished
        assert not (tmp_path / "s.lock").exists()


def test_links_planted_in_a_stopped_snapshot_are_never_followed(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    with gnb.connect(sandbox={"users": 50, "rate_limit": None}) as client:
        partial = _stopped_snapshot(client, tmp_path / "s", monkeypatch)
        (partial / "user_roles.parquet").unlink()  # computed again on resume
        for name in ("manifest.json.tmp", "user_roles.parquet.tmp"):  # the temporary names it used to write
            (partial / name).symlink_to(victim)
        snap = client.snapshot(tmp_path / "s", resume=True, progress=False)
        assert victim.read_text() == "precious\n"
        assert gnb.open_snapshot(snap.path).table("user_roles").collect().height > 0

        partial = _stopped_snapshot(client, tmp_path / "t", monkeypatch)
        (partial / "users.parquet").unlink()
        (partial / "users.parquet").symlink_to(snap.path / "users.parquet")  # a table "finished" elsewhere
        with pytest.raises(ExportError, match="is a symbolic link"):
            client.snapshot(tmp_path / "t", resume=True, progress=False)


@pytest.mark.parametrize("change, words", [
    (lambda p: (p / "started.json").unlink(), "cannot be resumed"),
    (lambda p: (p / "plan.json").write_text('{"tables": ["users"], "probe_requests": 0, "listed": {"x": {}}}'),
     "cannot be resumed"),
    (lambda p: (p / "users.parquet").write_bytes(b"not parquet"), "was changed after the stopped snapshot wrote it"),
])
def test_a_stopped_snapshot_changed_before_its_resume_is_refused_clearly(tmp_path, monkeypatch, change, words):
    with gnb.connect(sandbox={"users": 50, "rate_limit": None}) as client:
        partial = _stopped_snapshot(client, tmp_path / "s", monkeypatch)
        change(partial)
        with pytest.raises(ExportError, match=words):
            client.snapshot(tmp_path / "s", resume=True, progress=False)
        assert not (tmp_path / "s").exists()
