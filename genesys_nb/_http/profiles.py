"""Named connection profiles, read from the Genesys Cloud CLI's own file and from genesys-nb's.

Two layouts are read, from any profile file:

* the Genesys Cloud CLI's (``gc profiles new`` writes ``~/.gc/config.toml``): one top-level table per profile,
  ``[DEFAULT]``, ``[prod]``..., with ``environment`` (a region such as ``eu-west-1`` or a domain such as
  ``mypurecloud.ie``), ``client_credentials`` (the OAuth client id), ``client_secret`` and ``grant_type`` (``"1"``
  is Client Credentials; genesys-nb uses no other grant). Names are matched without regard to case, as the CLI
  does.
* genesys-nb's own, for people without that CLI: ``[profiles.NAME]`` tables with ``region`` (or ``api_url`` and
  optionally ``login_url``), ``client_id``, ``client_secret``, or ``sandbox = true`` plus ``sandbox_SETTING = value``
  keys (``sandbox_seed = 7``, ``sandbox_users = 500``) for an offline org.

The files are ``$GENESYS_NB_PROFILES`` (one path, or several separated by the system's path separator) or else
``~/.config/genesys-nb/profiles.toml`` (under ``$XDG_CONFIG_HOME`` when set) and then ``~/.gc/config.toml``; a
name found in an earlier file wins. A file holding a secret that others may read logs a warning, as ssh does for
keys. Nothing here ever puts a secret into a repr, a log line or an error.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from ..errors import ConfigError

__all__ = ["ENV_PROFILES", "Profile", "profile_files", "list_profiles", "find_profile"]

log = logging.getLogger("genesys_nb.profiles")

#: Where profiles are read from instead of the default files (one path, or several joined by os.pathsep).
ENV_PROFILES = "GENESYS_NB_PROFILES"
GC_FILE = Path("~/.gc/config.toml")
OWN_TABLE = "profiles"
#: The Genesys Cloud CLI's grant type for Client Credentials ("0" none, "2" implicit, "3" PKCE).
GC_CLIENT_CREDENTIALS = "1"
_SECRET_KEYS = ("client_secret", "access_token")
_warned: set[tuple[str, int]] = set()


@dataclass(frozen=True)
class Profile:
    """One named org (or sandbox) from a profile file, as :func:`genesys_nb.profiles` lists it: never a secret.

    ``region`` is the file's own spelling (``eu-west-1``, ``mypurecloud.ie``); ``sandbox`` holds the settings of a
    sandbox profile (``{"seed": 7, "users": 500}``) and is None for a real org; ``has_secret`` says whether the file
    holds the client secret (otherwise it comes from ``GENESYSCLOUD_OAUTHCLIENT_SECRET`` or a prompt).
    """

    name: str
    file: str
    line: int | None = None
    layout: str = "genesys-nb"  # or "genesys-cli" (the gc CLI's ~/.gc/config.toml)
    region: str | None = None
    api_url: str | None = None
    login_url: str | None = None
    client_id: str | None = None
    has_secret: bool = False
    sandbox: Mapping[str, Any] | None = None
    grant_type: str | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """``profile 'prod' in /home/me/.gc/config.toml`` (with the line, when known): for messages."""
        at = f" (line {self.line})" if self.line else ""
        return f"profile {self.name!r} in {self.file}{at}"


def profile_files(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The profile files genesys-nb reads, in order (whether they exist or not)."""
    env = os.environ if environ is None else environ
    chosen = env.get(ENV_PROFILES, "").strip()
    if chosen:
        return [Path(p).expanduser() for p in chosen.split(os.pathsep) if p.strip()]
    config_home = Path(env.get("XDG_CONFIG_HOME") or "~/.config").expanduser()
    return [config_home / "genesys-nb" / "profiles.toml", GC_FILE.expanduser()]


def _header_line(text: str, name: str, own: bool) -> int | None:
    """The line of a profile's ``[name]`` or ``[profiles.name]`` header, for messages that point at it."""
    quoted = rf"(?:{re.escape(name)}|\"{re.escape(name)}\"|'{re.escape(name)}')"
    prefix = rf"{OWN_TABLE}[ \t]*\.[ \t]*" if own else ""
    match = re.search(rf"^[ \t]*\[[ \t]*{prefix}{quoted}[ \t]*\]", text, re.MULTILINE | re.IGNORECASE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _read(path: Path) -> tuple[dict[str, Any], str] | None:
    """The parsed file and its text, or None when it does not exist. Malformed TOML is a ConfigError with the
    line tomllib reports (its messages quote no values, so no secret can leak through them)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"Cannot read the profile file {path}: {exc.strerror or exc}.") from None
    # Both errors below hold the file's text (a UnicodeDecodeError its bytes, a TOMLDecodeError on newer Pythons its
    # document), secrets included: they are raised outside the except blocks, so none is kept as __context__ either.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        problem = f"is not UTF-8 text (line {line}); save it as UTF-8 (TOML files are)"
    else:
        try:
            return tomllib.loads(text), text
        except tomllib.TOMLDecodeError as exc:  # its message quotes no value: "Invalid value (at line 3, column 17)"
            problem = f"is not valid TOML: {exc}. Fix that line"
    raise ConfigError(f"The profile file {path} {problem} (or point {ENV_PROFILES} at another file).")


def _warn_if_readable(path: Path, data: Mapping[str, Any]) -> None:
    """Warn, once per file and mode, when a file holding secrets may be read by its group or others."""
    if os.name == "nt":  # pragma: no cover - POSIX modes only
        return
    holds_secret = any(isinstance(t, Mapping) and any(t.get(k) for k in _SECRET_KEYS) for t in _tables(data))
    mode = stat.S_IMODE(path.stat().st_mode)
    if holds_secret and mode & 0o077 and (str(path), mode) not in _warned:
        _warned.add((str(path), mode))
        log.warning("The profile file %s holds OAuth client secrets and is readable by others (mode %04o). "
                    "Run: chmod 600 %s", path, mode, path)


def _tables(data: Mapping[str, Any]) -> Iterable[Any]:
    own = data.get(OWN_TABLE)
    yield from (own.values() if isinstance(own, Mapping) else ())
    yield from (v for k, v in data.items() if k != OWN_TABLE)


def _text(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"In {where}, {key} must be a text value in quotes, not {type(value).__name__}.")
    return value.strip() or None


def _sandbox_settings(table: Mapping[str, Any], where: str) -> dict[str, Any] | None:
    flag = table.get("sandbox", False)
    if isinstance(flag, Mapping):  # sandbox = {seed = 7, users = 500}
        return dict(flag)
    if not isinstance(flag, bool):
        raise ConfigError(f"In {where}, sandbox must be true or false (or a table of sandbox settings).")
    extra = {k.removeprefix("sandbox_"): v for k, v in table.items() if k.startswith("sandbox_")}
    if extra and not flag:
        raise ConfigError(f"In {where}, {', '.join('sandbox_' + k for k in extra)} need sandbox = true.")
    return extra if flag else None


def _profile(name: str, table: Any, path: Path, text: str, own: bool) -> tuple[Profile, str | None]:
    line = _header_line(text, name, own)
    where = Profile(name, str(path), line).where
    if not isinstance(table, Mapping):
        raise ConfigError(f"In {path}, {name!r} should be a table of settings ([{name}] followed by key = value "
                          f"lines).")
    secret = _text(table, "client_secret", where)
    profile = Profile(
        name=name, file=str(path), line=line, layout="genesys-nb" if own else "genesys-cli",
        region=_text(table, "region" if own else "environment", where),
        api_url=_text(table, "api_url", where) if own else None,
        login_url=_text(table, "login_url", where) if own else None,
        client_id=_text(table, "client_id" if own else "client_credentials", where),
        has_secret=secret is not None,
        sandbox=_sandbox_settings(table, where) if own else None,
        grant_type=None if own else (str(table["grant_type"]) if "grant_type" in table else None))
    return profile, secret


def _load(path: Path) -> list[tuple[Profile, str | None]]:
    read = _read(path)
    if read is None:
        return []
    data, text = read
    _warn_if_readable(path, data)
    found = []
    own = data.get(OWN_TABLE)
    if own is not None and not isinstance(own, Mapping):
        raise ConfigError(f"In {path}, {OWN_TABLE} must hold tables: [{OWN_TABLE}.NAME].")
    for name, table in (own or {}).items():
        found.append(_profile(name, table, path, text, own=True))
    for name, table in data.items():
        if name != OWN_TABLE and isinstance(table, Mapping):  # the gc CLI's top-level [NAME] tables
            found.append(_profile(name, table, path, text, own=False))
    return found


def _all(files: Sequence[Path] | None) -> list[tuple[Profile, str | None]]:
    seen: set[str] = set()
    result = []
    for path in profile_files() if files is None else files:
        for profile, secret in _load(Path(path).expanduser()):
            if profile.name.lower() not in seen:  # the first file that names a profile wins
                seen.add(profile.name.lower())
                result.append((profile, secret))
    return result


def list_profiles(files: Sequence[str | os.PathLike] | None = None) -> list[Profile]:
    """Every profile of the profile files (see the module's doc), first file first; never a secret."""
    return [profile for profile, _ in _all(None if files is None else [Path(f) for f in files])]


def find_profile(name: str, files: Sequence[str | os.PathLike] | None = None) -> tuple[Profile, str | None]:
    """The profile called ``name`` (exact name first, then without regard to case) and its secret, if the file
    holds one. A ConfigError names the files read and the profiles they hold when there is none."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"A profile name must be a non-empty text, not {name!r}.")
    paths = profile_files() if files is None else [Path(f).expanduser() for f in files]
    every = _all(paths)
    for match in (lambda p: p.name == name, lambda p: p.name.lower() == name.strip().lower()):
        for profile, secret in every:
            if match(profile):
                return profile, secret
    read = " or ".join(str(p) for p in paths)
    if not every:
        raise ConfigError(f"No profile {name!r}: there are no profiles in {read}. Create one with the Genesys Cloud "
                          f"CLI (gc profiles new) or add a [{OWN_TABLE}.{name}] table (see the README, \"Profiles "
                          f"and many orgs\"), or set {ENV_PROFILES} to your profile file.")
    names = ", ".join(f"{p.name} ({Path(p.file).name})" for p, _ in every)
    raise ConfigError(f"No profile {name!r} in {read}. The profiles there are: {names}.")
