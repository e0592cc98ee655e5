"""The layering rules of ARCHITECTURE.md: each module imports only the layers below it; the sandbox and the client
know nothing of each other except the one entry that starts the sandbox."""

import ast
import pathlib

PKG = pathlib.Path(__file__).resolve().parent.parent / "genesys_nb"

#: module -> the package modules it may import (directly or lazily).
ALLOWED = {
    "errors": set(), "regions": {"errors"}, "retrying": set(), "governor": set(),
    "auth": {"errors", "retrying"},
    "transport": {"auth", "errors", "governor", "retrying"},
    "strategies": {"errors"},
    "dedupe": set(),
    "paging": {"dedupe", "errors", "strategies", "transport"},
    "users": {"errors", "paging", "strategies"},
    "schema": set(), "filters": {"errors"}, "progress": set(),
    "frames": {"errors", "filters", "paging", "schema"},
    "scan": {"errors", "paging", "schema", "filters"},
    "durable": {"errors"},
    "writers": {"durable", "errors", "frames", "schema"},
    "cli": {"errors", "export", "filters", "frames", "regions", "sandbox", "schema", "users", "writers"},
    "export": {"durable", "errors", "frames", "paging", "progress", "schema", "filters", "writers"},
    "client": {"auth", "errors", "export", "frames", "governor", "paging", "regions", "retrying", "sandbox", "scan",
               "strategies", "transport", "users"},
}


def package_imports(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 0 and node.module and node.module.startswith("genesys_nb."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("genesys_nb.")}
    return found


def test_each_layer_imports_only_the_layers_below():
    for name, allowed in ALLOWED.items():
        extra = package_imports(PKG / f"{name}.py") - allowed
        assert not extra, f"{name}.py imports {sorted(extra)}"


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
    users = [p.name for p in PKG.glob("*.py") if "sandbox" in package_imports(p)]
    assert sorted(users) == ["cli.py", "client.py"]
    text = (PKG / "client.py").read_text()
    assert text.count("from .sandbox import") == 1


def test_importing_the_package_loads_no_notebook_stack_and_no_sdk():
    import subprocess
    import sys

    code = ("import sys, genesys_nb; bad = [m for m in ('ipywidgets', 'PureCloudPlatformClientV2', 'polars', "
            "'pandas', 'genesys_nb.sandbox') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
