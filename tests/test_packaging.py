"""The project's set-up promises: two commands, one list of dependencies, a pinned SDK extra, a conda file that
defers to it, and files that speak of the project alone."""

import pathlib
import re
import subprocess
import tomllib

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_pyproject_extras_and_console_script():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert meta["scripts"]["genesys-nb"] == "genesys_nb.cli:main"
    sdk = meta["optional-dependencies"]["sdk"]
    assert len(sdk) == 1 and re.fullmatch(r"PureCloudPlatformClientV2==\d+\.\d+\.\d+", sdk[0]), "pinned exactly"
    assert {"dev", "e2e", "sdk"} <= set(meta["optional-dependencies"])
    assert meta["requires-python"] == ">=3.10"
    assert not any("PureCloud" in d for d in meta["dependencies"]), "the SDK is never a core dependency"


def test_environment_yml_defers_to_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    deps = env["dependencies"]
    assert any(str(d).startswith("python") for d in deps) and "pip" in deps
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip == ["-e .[dev]"]


def test_readme_quickstart_is_two_commands_and_make_targets_exist():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in ("demo", "test", "bench", "lab"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_files_name_no_package_registry_hosts():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hosts = re.compile(r"pypi\.org|pythonhosted\.org|registry\.npmjs|deb\.debian\.org|security\.debian\.org|"
                       r"conda\.anaconda\.org|files\.pythonhosted")
    offenders = [f for f in tracked if (ROOT / f).is_file() and f.endswith((".py", ".md", ".toml", ".yml", ".ipynb",
                                                                              ".cfg", ".txt", "Makefile", "run"))
                 and hosts.search((ROOT / f).read_text(errors="replace"))]
    assert offenders == []
