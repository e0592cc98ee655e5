"""Adding a listing with a schema is one file: tests/resource_plugin/teams.py declares work teams, and frames, the
lazy scan, all three exports and resume work for it with no other edit."""

from __future__ import annotations

import polars as pl
import pytest

import genesys_nb as gnb
from resource_plugin.teams import TEAMS, teams_spec


@pytest.fixture
def client():
    with gnb.connect(sandbox={"users": 50, "teams": 60, "rate_limit": None}) as c:
        yield c


def test_frames_have_the_declared_schema_full_and_empty(client):
    df = client.stream(teams_spec()).to_polars()
    assert df.height == 60 and df.schema == TEAMS.polars_schema()
    assert df["team_id"].n_unique() == 60
    empty = client.stream(teams_spec(max_items=0)).to_polars()
    assert empty.height == 0 and empty.schema == df.schema


def test_the_scan_projects_filters_and_stops_early(client):
    lf = client.scan(teams_spec(page_size=10))
    assert lf.collect_schema() == TEAMS.polars_schema()
    assert lf.filter(pl.col("member_count") > 10).select("team_id").collect().height == \
        client.stream(teams_spec()).to_polars().filter(pl.col("member_count") > 10).height
    before = client.stats["requests"]
    assert lf.head(3).collect().height == 3
    assert client.stats["requests"] - before == 1


@pytest.mark.parametrize("fmt", ["parquet", "csv", "ndjson"])
def test_every_export_format(client, tmp_path, fmt):
    summary = getattr(client.stream(teams_spec(page_size=7)), f"to_{fmt}")(tmp_path / f"teams.{fmt}", progress=False)
    assert summary.rows == 60
    read = {"parquet": pl.read_parquet, "csv": pl.read_csv, "ndjson": pl.read_ndjson}[fmt](tmp_path / f"teams.{fmt}")
    assert read.height == 60


def test_resume_after_any_page(client):
    whole = client.stream(teams_spec(page_size=7)).to_polars()
    stream = client.stream(teams_spec(page_size=7))
    pages = stream.pages()
    first = [next(pages), next(pages), next(pages)]
    token = first[-1].resume_token
    stream.close()
    rest = client.stream(teams_spec(page_size=7), resume=token).to_polars()
    ids = [r["id"] for p in first for r in p.items] + rest["team_id"].to_list()
    assert ids == whole["team_id"].to_list()
