"""pandas frames from a listing have the dtypes of ``pd.read_parquet`` of our own Parquet export by default, and
take ``dtype_backend=`` as pandas spells it."""

from __future__ import annotations

import pandas as pd
import pytest

from genesys_nb.errors import ConfigError

EXPAND = ["dateLastLogin", "groups", "team"]


@pytest.fixture
def exported(make_client, tmp_path):
    client = make_client(users=400)
    path = tmp_path / "users.parquet"
    client.users(expand=EXPAND).to_parquet(path, progress=False)
    return client, path


def test_default_dtypes_match_read_parquet_of_the_export(exported):
    client, path = exported
    df = client.users(expand=EXPAND).to_pandas()
    from_file = pd.read_parquet(path)
    assert list(df.columns) == list(from_file.columns)
    assert dict(df.dtypes) == dict(from_file.dtypes)
    both = pd.concat([df, from_file], ignore_index=True)
    assert dict(both.dtypes) == dict(df.dtypes)
    assert pd.api.types.is_string_dtype(both["email"]) and both["email"].dtype != object
    assert str(df["date_last_login"].dtype) == "datetime64[us, UTC]"
    early = df["date_last_login"] < "2025-06-01"
    assert early.dtype == bool and 0 < early.sum() < len(df)


def test_default_dtypes_hold_for_chunks_and_an_empty_result(make_client):
    client = make_client(users=250)
    chunks = list(client.users(expand=EXPAND).iter_frames(chunk_size=100, backend="pandas"))
    whole = client.users(expand=EXPAND).to_pandas()
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert all(dict(c.dtypes) == dict(whole.dtypes) for c in chunks)
    empty = client.users(expand=EXPAND).to_pandas(where='state == "nobody"')
    assert len(empty) == 0 and dict(empty.dtypes) == dict(whole.dtypes)


def test_dtype_backend_as_pandas_spells_it(exported):
    client, path = exported
    for backend in ("pyarrow", "numpy_nullable"):
        df = client.users(expand=EXPAND).to_pandas(dtype_backend=backend)
        from_file = pd.read_parquet(path, dtype_backend=backend)
        flat = [c for c in df.columns if c not in ("groups", "team")]  # nested: pandas names list items its own way
        assert {c: df[c].dtype for c in flat} == {c: from_file[c].dtype for c in flat}, backend
    arrow = client.users(expand=EXPAND).to_pandas(dtype_backend="pyarrow")
    assert isinstance(arrow["groups"].dtype, pd.ArrowDtype)
    nullable = next(iter(client.users().iter_frames(backend="pandas", dtype_backend="numpy_nullable")))
    assert nullable["version"].dtype == pd.Int64Dtype() and nullable["email"].dtype == pd.StringDtype()


def test_bad_dtype_backend_is_refused_before_any_request(make_client):
    client = make_client(users=10)
    with pytest.raises(ConfigError, match="dtype_backend must be None"):
        client.users().to_pandas(dtype_backend="arrow")
    with pytest.raises(ConfigError, match="backend='pandas'"):
        client.users().iter_frames(backend="polars", dtype_backend="pyarrow")
    assert client.stats["requests"] == 0
