"""The genesys-nb command line, in-process against the sandbox (plus one run of the installed console script)."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import genesys_nb as gnb
import genesys_nb.cli.app as cli
import genesys_nb.export.durable as durable_mod
import genesys_nb.export.orchestrate as export_mod
import genesys_nb.export.writers as writers_mod
from genesys_nb.cli.app import main
from genesys_nb.errors import ServerError
from genesys_nb.resources.users import USER_COLUMNS

SB = ["--sandbox", "--sandbox-users", "600"]


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch):
    for name in ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)


def sandbox_ids(state="any", users=600):
    with gnb.connect(sandbox={"users": users}) as client:
        return client.sandbox.org.ids(state)


# -- users export ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["parquet", "ndjson", "csv"])
def test_export_writes_the_file_and_prints_a_summary(tmp_path, capsys, fmt):
    out = tmp_path / f"users.{fmt}"
    assert main(["users", "export", str(out), *SB, "--no-progress", "--expand", "dateLastLogin"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("wrote 600 users to ") and str(out) in captured.out
    reader = {"parquet": pl.read_parquet, "ndjson": pl.read_ndjson, "csv": pl.read_csv}[fmt]
    assert reader(out)["id"].to_list() == sandbox_ids()


def test_export_with_where_state_json_summary_and_progress_on_stderr(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    out = tmp_path / "active.parquet"
    code = main(["users", "export", str(out), *SB, "--state", "active", "--where", 'email != null and version > 2',
                 "--json", "--page-size", "100"])
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    df = pl.read_parquet(out)
    assert summary["rows"] == df.height > 0 and summary["pages"] == -(-len(sandbox_ids("active")) // 100)
    assert set(df["state"]) == {"active"} and df["email"].null_count() == 0 and df["version"].min() > 2
    assert "active.parquet" in captured.err and "rec/s" in captured.err  # the bar is on stderr, not stdout
    assert "sandbox-secret" not in captured.err + captured.out


def test_export_refuses_to_overwrite_then_overwrites(tmp_path, capsys):
    out = tmp_path / "u.csv"
    out.write_text("keep me")
    assert main(["users", "export", str(out), *SB, "--no-progress"]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["users", "export", str(out), *SB, "--no-progress", "--overwrite"]) == 0
    assert pl.read_csv(out).height == 600


def test_resuming_a_complete_export_says_there_is_nothing_to_resume(tmp_path, capsys):
    out = tmp_path / "u.parquet"
    assert main(["users", "export", str(out), *SB, "--no-progress"]) == 0
    capsys.readouterr()
    before = out.read_bytes()
    assert main(["users", "export", str(out), *SB, "--no-progress", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "is complete" in err and "nothing to resume" in err and "pass --overwrite instead of --resume" in err
    assert "=True" not in err and out.read_bytes() == before


@pytest.mark.parametrize("args,match", [
    (["users", "export", "{tmp}/missing/u.parquet"], "does not exist"),
    (["users", "export", "{tmp}/u.xlsx"], "Cannot tell the format"),
    (["users", "export", "{tmp}/u.parquet", "--where", "state = = 1"], "Cannot read the where expression"),
    (["users", "export", "{tmp}/u.parquet", "--where", "stat == 1"], "Did you mean 'state'"),
    (["users", "export", "{tmp}/u.parquet", "--expand", "grups"], "Did you mean 'groups'"),
    (["users", "export", "{tmp}/u.parquet", "--page-size", "0"], "must be 1 or more"),
    (["users", "export", "{tmp}/u.parquet", "--region", "eu-west-1"], "cannot|do not combine"),
    (["users", "head", "--columns", "nope"], "Unknown column"),
])
def test_bad_usage_exits_2(tmp_path, capsys, args, match):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args] + SB + ["--no-progress"] * (args[1] == "export")
    assert main(argv) == 2
    assert re.search(match, capsys.readouterr().err)


def test_missing_credentials_exit_2_and_say_how(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    assert main(["users", "count", "--region", "eu-west-1"]) == 2
    assert "GENESYSCLOUD_OAUTHCLIENT_ID" in capsys.readouterr().err
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_ID", "abc")
    assert main(["users", "count", "--region", "eu-west-1"]) == 2
    assert "GENESYSCLOUD_OAUTHCLIENT_SECRET" in capsys.readouterr().err


def test_secret_is_prompted_on_a_terminal_never_a_flag(capsys, monkeypatch):
    prompts = []

    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: prompts.append(prompt) or "s3cret")
    seen = {}

    def fake_connect(region=None, **kw):
        seen.update(kw, region=region)
        raise gnb.AuthenticationError("refused")

    monkeypatch.setattr(gnb, "connect", fake_connect)
    assert main(["users", "count", "--region", "eu-west-1", "--client-id", "abc"]) == 3
    assert prompts and seen["client_secret"] == "s3cret" and seen["client_id"] == "abc"
    assert "s3cret" not in capsys.readouterr().err
    assert main(["users", "count", "--client-secret", "x", "--sandbox"]) == 2  # no such option


def test_authentication_failure_exits_3(capsys):
    assert main(["users", "count", "--sandbox", "--client-id", "nobody"]) == 3
    assert "error" in capsys.readouterr().err


def _client_with(make_client, monkeypatch, **settings):
    client = make_client(users=600, **settings)
    monkeypatch.setattr(cli, "_connect", lambda args: client)
    return client


def test_api_failure_exits_4_with_resume_hint_then_resume_finishes(tmp_path, capsys, monkeypatch, make_client):
    from genesys_nb.sandbox import Faults

    _client_with(make_client, monkeypatch, faults=Faults(forbidden_at=(3,)))
    out = tmp_path / "u.ndjson"
    argv = ["users", "export", str(out), "--no-progress", "--page-size", "100", "--strategy", "cursor"]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 3 and "--resume" in err  # a 403 mid-listing is a permission error; the checkpoint is kept
    assert not out.exists() and (tmp_path / "u.ndjson.checkpoint.json").exists()
    monkeypatch.undo()
    _client_with(make_client, monkeypatch)
    assert main(argv + ["--resume"]) == 0
    assert "(resumed)" in capsys.readouterr().out
    assert pl.read_ndjson(out)["id"].to_list() == sandbox_ids()


def test_server_failure_exits_4(tmp_path, capsys, monkeypatch, make_client):
    _client_with(make_client, monkeypatch)

    def failing(*a, **k):
        raise ServerError("The API kept failing at /api/v2/users/query after 6 attempts (HTTP 503).", status=503)

    monkeypatch.setattr(export_mod, "export", failing)
    assert main(["users", "export", str(tmp_path / "u.parquet"), "--no-progress"]) == 4
    err = capsys.readouterr().err
    assert "kept failing" in err and "--resume" in err


def _filling_disk(monkeypatch, writes: int = 3) -> None:
    """The disk is full after ``writes`` writes."""
    real = durable_mod.write_bytes
    calls = {"n": 0}

    def filling(fh, data):
        calls["n"] += 1
        if calls["n"] > writes:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fh, data)

    monkeypatch.setattr(durable_mod, "write_bytes", filling)


def test_full_disk_exits_1_keeping_the_checkpoint(tmp_path, capsys, monkeypatch, make_client):
    _client_with(make_client, monkeypatch)
    _filling_disk(monkeypatch)
    monkeypatch.setattr(writers_mod, "TEXT_FLUSH_SECONDS", 0.0)
    out = tmp_path / "u.ndjson"
    assert main(["users", "export", str(out), "--no-progress", "--page-size", "100"]) == 1
    assert "disk is full" in capsys.readouterr().err
    assert not out.exists() and (tmp_path / "u.ndjson.checkpoint.json").exists()


def test_a_snapshot_that_fills_the_disk_exits_1_and_resumes_while_usage_errors_exit_2(tmp_path, capsys,
                                                                                      monkeypatch):
    """1: failed on this machine after the work started; 2: refused before any request (as for exports)."""
    args = ["snapshot", str(tmp_path / "s"), "--sandbox", "--sandbox-users", "30", "--no-progress"]
    with monkeypatch.context() as m:
        _filling_disk(m)
        assert main(args) == 1
    err = capsys.readouterr().err
    assert "disk is full" in err and "--resume" in err and len(err.strip().splitlines()) == 1
    assert main([*args, "--resume"]) == 0
    capsys.readouterr()
    assert main(args) == 2  # the folder exists: refused before any request
    assert main(["snapshot", str(tmp_path / "no" / "s"), "--sandbox", "--no-progress"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_failure_after_work_started_is_1_in_one_line_with_its_notes(capsys):
    from genesys_nb.cli.snapshot import _exit_code
    from genesys_nb.errors import ExportError

    with pytest.raises(ExportError):
        with cli.failing_locally(lambda: False):
            raise ExportError("refused before any request")
    with pytest.raises(cli._LocalFailure) as caught:
        with cli.failing_locally():
            exc = OSError(errno.EIO, "Input/output error")
            exc.add_note("Run the same export with resume=True (--resume) to continue.")
            raise exc
    assert str(caught.value) == "[Errno 5] Input/output error Run the same export with --resume to continue."
    assert _exit_code(caught.value) == 1 and _exit_code(ExportError("x")) == 2  # one org of several, the same


def test_exit_codes_read_the_same_in_the_help_and_the_readme(capsys):
    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text().split())
    assert main(["--help"]) == 0
    epilog = " ".join(capsys.readouterr().out.split("exit codes:", 1)[1].split())
    for words in ("1 failed on this machine after the work started", "2 bad usage or configuration, found before any",
                  "3 authentication or permission refused", "4 API or network failure after retries",
                  "130 interrupted"):
        assert words in epilog and words in readme, words
    assert "export failed locally" not in readme + epilog
    assert "export failed locally" not in " ".join(cli.__doc__.split())


def test_ctrl_c_exits_130(tmp_path, capsys, monkeypatch, make_client):
    _client_with(make_client, monkeypatch)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(export_mod, "export", interrupted)
    assert main(["users", "export", str(tmp_path / "u.parquet"), "--no-progress"]) == 130
    assert "--resume" in capsys.readouterr().err


# -- users count / head / columns -----------------------------------------------------------------------------------
def test_count(capsys):
    assert main(["users", "count", *SB]) == 0
    assert capsys.readouterr().out.strip() == "600"
    assert main(["users", "count", *SB, "--state", "inactive", "--exact"]) == 0
    assert int(capsys.readouterr().out) == len(sandbox_ids("inactive"))
    assert main(["users", "count", *SB, "--where", 'state == "deleted"']) == 0
    assert int(capsys.readouterr().out) == len(sandbox_ids("deleted"))


def test_head_table_csv_ndjson(capsys):
    assert main(["users", "head", *SB, "-n", "3", "--expand", "dateLastLogin", "--columns", "id,date_last_login"]) == 0
    out = capsys.readouterr().out
    ids = sandbox_ids()[:3]
    assert all(i in out for i in ids) and "date_last_login" in out and sandbox_ids()[3] not in out
    assert main(["users", "head", *SB, "-n", "2", "--format", "csv", "--columns", "id,state,groups",
                 "--expand", "groups"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "id,state,groups" and len(lines) == 3
    assert main(["users", "head", *SB, "-n", "4", "--format", "ndjson", "--where", 'state == "inactive"']) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["id"] for r in rows] == sandbox_ids("inactive")[:4]


def test_columns(capsys):
    assert main(["users", "columns", "--expand", "groups,employerInfo"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.strip().splitlines()]
    assert names == USER_COLUMNS + ["groups", "employer_info"]


def test_help_and_missing_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "exit codes" in out
    assert main(["users", "export", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--resume" in out and "--where" in out and "GENESYSCLOUD_OAUTHCLIENT_SECRET" in out
    assert main([]) == 2
    assert main(["users"]) == 2
    assert main(["users", "frobnicate"]) == 2


def test_sandbox_subcommand_delegates(monkeypatch):
    seen = []
    import genesys_nb.sandbox.cli as sandbox_cli

    progs = []
    monkeypatch.setattr(sandbox_cli, "main", lambda argv, prog=None: seen.append(argv) or progs.append(prog) or 0)
    assert main(["sandbox", "--users", "10", "--port", "0"]) == 0
    assert seen == [["--users", "10", "--port", "0"]]
    assert progs == ["genesys-nb sandbox"]


def test_console_script_help():
    exe = Path(sys.executable).with_name("genesys-nb")
    assert exe.exists(), "the genesys-nb console script is missing: make test installs the package with it"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "users" in result.stdout and "sandbox" in result.stdout and "exit codes" in result.stdout


def test_head_table_shows_the_columns_people_read_first(capsys):
    from genesys_nb.cli.app import main as cli_main

    assert cli_main(["users", "head", "-n", "2", "--sandbox", "--expand", "dateLastLogin"]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    for column in ("name", "email", "state", "division_name", "date_last_login"):
        assert column in header
    assert "self_uri" not in header and "chat_jabber_id" not in header


def test_a_bad_region_is_reported_before_the_secret_is_asked_for(capsys, monkeypatch):
    from genesys_nb.cli.app import main as cli_main

    monkeypatch.delenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", raising=False)
    assert cli_main(["users", "count", "--region", "eu-wset-1", "--client-id", "x"]) == 2
    assert "Did you mean 'eu-west-1'" in capsys.readouterr().err


# -- issue 13: the CLI's own words -----------------------------------------------------------------------------------
PYTHON_WORDS = re.compile(r"\b(overwrite|resume|format|api_url|login_url|where|region)=|genesys_nb\.|connect\(")


@pytest.mark.parametrize("args,says", [
    (["users", "export", "{tmp}/exists.csv", *SB], "Pass --overwrite to replace it"),
    (["users", "export", "{tmp}/u.xlsx", *SB], "pass --format parquet, ndjson or csv"),
    (["users", "export", "{tmp}/u.csv", "--region", "eu-wst-1"], "or pass --api-url for a custom host"),
    (["users", "export", "{tmp}/u.csv", "--region", "eu-wst-1"], "(all 18: us-east-1, "),
    (["users", "count", *SB, "--where", "nope == 1"], "--where refers to the column 'nope'"),
])
def test_errors_at_the_shell_name_flags_not_python_arguments(tmp_path, capsys, args, says):
    (tmp_path / "exists.csv").write_text("keep me")
    assert main([a.replace("{tmp}", str(tmp_path)) for a in args]) == 2
    err = capsys.readouterr().err
    assert says in err and not PYTHON_WORDS.search(err), err


@pytest.mark.parametrize("python,shell", [
    ("'a.csv' already exists. Pass overwrite=True (--overwrite) to replace it.", "'a.csv' already exists. Pass --overwrite to replace it."),
    ("or pass format='parquet' / 'ndjson' / 'csv'.", "or pass --format parquet, ndjson or csv."),
    ("Give either a region or api_url=, not both.", "Give either --region or --api-url, not both."),
    ("login_url= needs api_url= as well (or give a region).", "--login-url needs --api-url as well (or give --region)."),
    ("Run the same export with resume=True (--resume) to continue", "Run the same export with --resume to continue"),
    ("No Genesys Cloud region given. Pass a region (e.g. connect('eu-west-1')), set GENESYSCLOUD_REGION, pass "
     "api_url= for a custom host, or use connect(sandbox=True) to try the toolkit offline.",
     "No Genesys Cloud region given. Pass --region (e.g. --region eu-west-1), set GENESYSCLOUD_REGION, pass "
     "--api-url for a custom host, or add --sandbox to try the toolkit offline."),
    ("where= must be a true/false expression", "--where must be a true/false expression"),
])
def test_messages_of_the_layers_below_are_spelled_for_the_shell(python, shell):
    assert cli.shell_message(gnb.ConfigError(python)) == shell


def test_one_message_two_spellings():
    from genesys_nb.errors import Arg, ExportError

    exc = ExportError("{path!r} exists. Pass {overwrite} to replace it, {fmt}, or give {region} or {api}.",
                      fields={"path": "a.csv"}, status=409,
                      refers_to={"overwrite": Arg("overwrite", True), "fmt": Arg("format", "csv"),
                                 "region": Arg("region", python="a region"), "api": Arg("api_url")})
    assert str(exc) == ("'a.csv' exists. Pass overwrite=True to replace it, format='csv', or give a region or "
                        "api_url=. (HTTP 409)")
    assert exc.spelled("shell") == ("'a.csv' exists. Pass --overwrite to replace it, --format csv, or give --region "
                                    "or --api-url. (HTTP 409)")
    assert cli.shell_message(exc) == exc.spelled("shell")
    assert exc.arguments == ("overwrite", "format", "region", "api_url")
    import pickle

    assert str(pickle.loads(pickle.dumps(exc))) == str(exc)
    assert str(ExportError("braces {stay} as they are")) == "braces {stay} as they are"


@pytest.mark.parametrize("args,says", [
    (["users", "count", *SB, "--page-size", "0"], "argument --page-size: must be 1 or more"),
    (["users", "export", "u.csv", *SB, "--page-size", "x"], "argument --page-size: 'x' is not a whole number"),
    (["users", "count", *SB, "--state", "retired"], "argument --state: invalid choice: 'retired'"),
])
def test_usage_errors_are_one_line_without_the_usage_dump(capsys, args, says):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert says in err and "usage:" not in err and len(err.strip().splitlines()) == 1, err
    assert f"(see genesys-nb users {args[1]} --help)" in err


def test_state_is_case_insensitive_like_python(capsys):
    assert main(["users", "count", *SB, "--state", "Active", "--exact"]) == 0
    assert int(capsys.readouterr().out) == len(sandbox_ids("active"))
    with gnb.connect(sandbox={"users": 600}) as client:
        assert len(client.users(state="Active").to_polars()) == len(sandbox_ids("active"))


def test_count_json_as_the_readme_documents(capsys):
    assert main(["users", "count", *SB, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["users"] == 600 and data["warnings"] == [] and data["fallbacks"] == []
    assert main(["users", "count", *SB, "--json", "--state", "deleted", "--exact"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"users": len(sandbox_ids("deleted")), "exact": True, "warnings": [], "fallbacks": []}


FALLBACK = "listing with page numbers on /api/v2/users instead"


@pytest.mark.parametrize("progress", [False, True])
def test_the_page_number_fallback_is_in_the_json_and_on_its_own_line(tmp_path, capfd, monkeypatch, progress):
    monkeypatch.setenv("GENESYSCLOUD_OAUTHCLIENT_SECRET", "limited-secret")
    monkeypatch.setenv("TQDM_DISABLE", "0" if progress else "1")
    out = tmp_path / "u.parquet"
    argv = ["users", "export", str(out), *SB, "--client-id", "limited-client", "--json"]
    assert main(argv + ([] if progress else ["--no-progress"])) == 0
    captured = capfd.readouterr()
    data = json.loads(captured.out)
    assert len(data["fallbacks"]) == 1 and FALLBACK in data["fallbacks"][0]
    assert data["rows"] == pl.read_parquet(out).height
    lines = [line for chunk in captured.err.split("\r") for line in chunk.splitlines()]
    fallback_lines = [line for line in lines if FALLBACK in line]
    assert fallback_lines and all(line.startswith("genesys-nb: warning: The cursor endpoint") for line in fallback_lines)
    assert not any("rec/s" in line for line in fallback_lines), "the warning is glued to the progress bar"


def test_the_summary_line_counts_in_words(tmp_path, capsys):
    assert main(["users", "export", str(tmp_path / "u.csv"), "--sandbox", "--sandbox-users", "3", "--no-progress"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(": 1 page, 1 request")


def test_sandbox_help_names_the_command_and_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["sandbox", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: genesys-nb sandbox ")
    import genesys_nb.sandbox.cli as sandbox_cli

    parser = sandbox_cli.build_parser("genesys-nb sandbox")
    bare = [a.option_strings[0] for a in parser._actions if not a.help]
    assert bare == [], f"options without help: {bare}"


def _example_commands(help_text: str) -> list[list[str]]:
    """The genesys-nb commands of a --help's examples, as argv lists (comments, env assignments, `&&` and line
    continuations handled as a shell would)."""
    import shlex

    block = help_text.split("examples:\n", 1)[1].split("exit codes:", 1)[0]
    commands, buffer = [], ""
    for line in block.splitlines():
        buffer += line.rstrip("\\") + "\n"
        try:
            words = shlex.split(buffer, comments=True)
        except ValueError:  # a quote still open: the command goes on on the next line
            continue
        buffer = ""
        while words:
            cut = words.index("&&") if "&&" in words else len(words)
            command, words = words[:cut], words[cut + 1:]
            while command and "=" in command[0] and not command[0].startswith("-"):
                command = command[1:]  # VAR=value before the command
            if command and command[0] == "genesys-nb":
                commands.append(command[1:])
    assert buffer.strip() == "", f"unfinished example: {buffer!r}"
    return commands


@pytest.mark.parametrize("command", ["sandbox", "snapshot", "sql"])
def test_help_has_offline_examples_that_parse_and_exit_codes(capsys, command):
    import genesys_nb.sandbox.cli as sandbox_cli

    if command == "sandbox":
        with pytest.raises(SystemExit):
            main(["sandbox", "--help"])
    else:
        assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "\nexit codes: 0 " in out
    examples = _example_commands(out)
    own = [argv for argv in examples if argv[0] == command]
    assert len(own) >= 3, examples
    first_run = next(argv for argv in examples if argv[0] in ("snapshot", "sandbox"))
    assert command == "sandbox" or "--sandbox" in first_run  # sandbox first: it runs offline
    for argv in examples:  # every example is a command line the parser takes
        parser = sandbox_cli.build_parser("genesys-nb sandbox") if argv[0] == "sandbox" else cli.build_parser()
        parser.parse_args(argv[1:] if argv[0] == "sandbox" else argv)


# -- issue 13, item 9: a used stream, and the bar's count against its postfix ----------------------------------------
def test_iterating_a_used_stream_again_raises_as_to_pandas_does():
    with gnb.connect(sandbox={"users": 30}) as client:
        stream = client.users(page_size=10)
        assert len(list(stream)) == 30
        with pytest.raises(gnb.GenesysError, match="already been consumed") as by_frame:
            stream.to_pandas()
        with pytest.raises(gnb.GenesysError, match="already been consumed") as by_loop:
            list(stream)
        assert str(by_loop.value) == str(by_frame.value)
        partly = client.users(page_size=10)
        first = next(partly)
        assert next(iter(partly))["id"] != first["id"]  # a stream that is still running goes on where it was


def test_the_bar_shows_the_count_and_the_postfix_of_the_same_page(monkeypatch):
    import io

    from genesys_nb.export.progress import ProgressBar

    monkeypatch.setenv("TQDM_DISABLE", "0")
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    bar = ProgressBar(total=300, desc="users")
    bar._bar.miniters, bar._bar.mininterval = 0, 0
    for written in (100, 200, 300):
        bar.page(100, written=written)
    frames = [f for f in screen.getvalue().split("\r") if "pages=" in f]
    assert frames, screen.getvalue()
    for frame in frames:
        count = int(re.search(r"\| (\d+)/300", frame).group(1))
        assert f"pages={count // 100}, rows={count}" in frame, frame
    bar.close()


def test_sql_writes_nested_columns_as_csv_and_a_reader_that_goes_away_ends_it_quietly(tmp_path):
    import subprocess
    import sys

    assert main(["snapshot", str(tmp_path / "s"), "--sandbox", "--tables", "users", "--no-progress"]) == 0
    args = [sys.executable, "-m", "genesys_nb.cli", "sql", str(tmp_path / "s"), "select * from users", "--format",
            "csv"]  # about 1 MB: more than a pipe holds
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and "Traceback" not in err, err


def test_sql_shows_its_table_as_users_head_does_and_times_in_utc_in_any_time_zone(tmp_path, capsys):
    import subprocess
    import sys

    assert main(["snapshot", str(tmp_path / "s"), "--sandbox", "--sandbox-users", "5", "--tables", "users",
                 "--no-progress"]) == 0
    capsys.readouterr()
    query = "select name, date_last_login from users where date_last_login is not null order by id limit 3"
    assert main(["sql", str(tmp_path / "s"), query]) == 0
    table = capsys.readouterr().out
    assert main(["users", "head", "-n", "3", "--sandbox", "--sandbox-users", "5", "--columns",
                 "name,date_last_login"]) == 0
    head = capsys.readouterr().out
    assert "shape:" not in table and "shape:" not in head
    assert "datetime[μs, UTC]" in table and "datetime[μs, UTC]" in head and "Etc/" not in table
    want = gnb.open_snapshot(tmp_path / "s").table("users").filter(pl.col("date_last_login").is_not_null()) \
        .sort("id").head(1).collect()["date_last_login"][0]
    csv = subprocess.run([sys.executable, "-m", "genesys_nb.cli", "sql", str(tmp_path / "s"), query, "--format",
                          "csv"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "TZ": "Europe/Berlin"})  # DuckDB would answer in Berlin time
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.splitlines()[1].endswith(want.strftime(",%Y-%m-%dT%H:%M:%S.") + f"{want.microsecond // 1000:03d}Z")
