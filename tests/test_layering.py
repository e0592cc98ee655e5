"""The layering rules of ARCHITECTURE.md: each layer imports only the layers below it; the sandbox and the client
know nothing of each other except the one entry that starts the sandbox."""

import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parent.parent / "genesys_nb"

#: The layers, lowest first. A module may import its own layer's package and any layer below it, never above.
LAYERS = ["_version", "errors", "_checks", "_http", "_paging", "_tables", "resources", "export", "snapshot", "_review", "client",
          "orgs", "__init__", "cli", "widgets", "demo"]


def layer_of(path: pathlib.Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_layers(path: pathlib.Path) -> set[str]:
    """The top-level parts of genesys_nb that a module imports (directly or lazily, relative or absolute)."""
    rel = path.relative_to(PKG)
    package = list(rel.parts[:-1])  # the module's package inside genesys_nb
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                if node.level - 1 > len(package):
                    continue
                target = base + (node.module.split(".") if node.module else [])
                if not target:  # "from .. import x" at the top: x is the layer
                    found |= {a.name for a in node.names}
                else:
                    found.add(target[0])
            elif node.module and node.module.startswith("genesys_nb."):
                found.add(node.module.split(".")[1])
            elif node.module == "genesys_nb":
                found.add("__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("genesys_nb."):
                    found.add(alias.name.split(".")[1])
                elif alias.name == "genesys_nb":
                    found.add("__init__")
    return found


def modules():
    return [p for p in PKG.rglob("*.py") if "sandbox" not in p.relative_to(PKG).parts]


def test_every_module_belongs_to_a_layer():
    assert {layer_of(p) for p in modules()} <= set(LAYERS)


def test_each_layer_imports_only_the_layers_below():
    for path in modules():
        own = layer_of(path)
        rank = LAYERS.index(own)
        for used in imported_layers(path) - {own, "sandbox"}:
            assert used in LAYERS, f"{path.relative_to(PKG)} imports unknown part {used}"
            assert LAYERS.index(used) < rank, f"{path.relative_to(PKG)} ({own}) imports {used}, a layer above it"


def test_sandbox_imports_nothing_from_the_client():
    for path in (PKG / "sandbox").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2:
                raise AssertionError(f"{path.name} imports from outside the sandbox")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                for mod in names:
                    assert not (mod.startswith("genesys_nb") and not mod.startswith("genesys_nb.sandbox")), \
                        f"{path.name} imports {mod}"


def test_the_client_starts_the_sandbox_in_one_place_only():
    users = sorted(str(p.relative_to(PKG)) for p in modules() if "sandbox" in imported_layers(p))
    assert users == ["cli/app.py", "client.py"]
    text = (PKG / "client.py").read_text()
    assert text.count("from .sandbox import") == 1


def test_importing_the_package_loads_no_notebook_stack_and_no_sdk():
    import subprocess
    import sys

    code = ("import sys, genesys_nb; bad = [m for m in ('ipywidgets', 'PureCloudPlatformClientV2', 'polars', "
            "'pandas', 'genesys_nb.sandbox') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


_RUN_CLI = """
import contextlib, io, sys
from genesys_nb.cli.app import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(code, "pandas" in sys.modules)
"""


@pytest.mark.parametrize("argv", [["--help"], ["users", "--help"], ["snapshot", "--help"], ["users", "count", "--sandbox"],
                                  ["users", "columns"]])
def test_the_command_line_starts_without_pandas(argv):
    """pandas costs about a second of start-up, and these commands make no pandas frame (pyarrow's
    Schema.empty_table() imported it, for one; pyarrow's compute functions still do, where pages are decoded)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _RUN_CLI, *argv], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False"]


# -- users are one resource among equals ---------------------------------------------------------------------------
#: The parts of the package that must know no user endpoint, user column or user state. The people layers (cli,
#: widgets, demo) speak to users about users, and the review rules are about the users table of the snapshot
#: contract; everything generic below them must not.
GENERIC = ("errors", "_http", "_paging", "_tables", "export", "snapshot", "client")


def _code_strings(path: pathlib.Path) -> list[str]:
    """String constants of a module that are not docstrings (what the code uses, not what it says)."""
    tree = ast.parse(path.read_text())
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs]


def _user_facts() -> set[str]:
    from genesys_nb.resources import users

    generic_names = {"id", "name", "email", "state", "title", "department", "version", "username", "self_uri",
                     "groups", "skills", "languages", "authorization", "division_id", "division_name"}
    facts = set(users.USERS.all_column_names()) - generic_names
    facts |= {e for e in users.EXPANDS if e not in ("groups", "skills", "languages", "authorization")}
    facts |= {"inactive", "deleted", users.USERS_PATH, users.QUERY_PATH, users.SEARCH_PATH}
    return facts


def test_no_generic_module_names_user_endpoints_columns_or_states():
    facts = _user_facts()
    for path in modules():
        if layer_of(path) not in GENERIC:
            continue
        found = {s for s in _code_strings(path) for f in facts if s == f or (f.startswith("/api/") and f in s)}
        assert not found, f"{path.relative_to(PKG)} names user facts {sorted(found)}: they belong in resources/users.py"


def test_the_paging_loop_imports_no_paginator_class():
    for name in ("stream.py", "fanout.py"):
        tree = ast.parse((PKG / "_paging" / name).read_text())
        runtime = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
        imported = {a.name for node in runtime for a in node.names}
        assert not {n for n in imported if n.endswith("Paginator")}, f"_paging/{name} imports {imported}"


def test_every_export_format_comes_from_the_sink_registry():
    import genesys_nb.export.orchestrate as orchestrate
    from genesys_nb.cli.app import build_parser
    from genesys_nb.export.sinks import names

    assert tuple(orchestrate.FORMATS) == tuple(names())
    users = next(a for a in build_parser()._subparsers._group_actions[0].choices["users"]._subparsers
                 ._group_actions[0].choices.values() if a.prog.endswith("export"))
    fmt = next(a for a in users._actions if a.dest == "format")
    assert tuple(fmt.choices) == tuple(names())
    for path in modules():  # no module outside the sinks spells the formats' suffixes as its own list
        if "sinks" in path.parts:
            continue
        assert not [s for s in _code_strings(path) if s in (".parquet .ndjson .csv", "parquet|ndjson|csv")]
