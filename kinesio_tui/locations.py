"""Where kinesio-tui keeps its files. Paths are computed when asked, never at import."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from kinesio_tui.errors import KinesioError

APP_NAME = "kinesio-tui"
DB_ENV = "KINESIO_DB"
#: Overrides the settings file's location (tests, a shared clinic install).
SETTINGS_ENV = "KINESIO_SETTINGS"


def data_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


def config_dir() -> Path:
    import platformdirs

    return platformdirs.user_config_path(APP_NAME)


def default_db_path() -> Path:
    return data_dir() / "kinesio.db"


def settings_file() -> Path:
    """Where the settings file is read from: $KINESIO_SETTINGS, else the config directory."""
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env).expanduser()
    return config_dir() / "settings.toml"


def database_setting() -> tuple[str | None, str | None]:
    """The settings file's `[database]` url and schema (None where unset), read on their own:
    the start-up reads this table only, and only when it needs it (no --db, or a URL);
    `settings.load_settings` checks the same table with the rest of the file."""
    path = settings_file()
    if not path.is_file():
        return None, None
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise KinesioError("Broken settings file", f"{path}: {error}.") from None
    return database_table(path, data.get("database", {}))


def database_table(path: Path, table: object) -> tuple[str | None, str | None]:
    """The settings file's `[database]` table checked: a postgresql:// URL without a
    password, a schema's name (the one check, for the start-up and for `load_settings`)."""
    if not isinstance(table, dict) or set(table) - {"url", "schema"}:
        raise KinesioError("Broken settings file", f"{path}: [database] holds url and schema only.")
    url, schema = table.get("url"), table.get("schema")
    try:
        if url is not None:
            check_database_url(url)
        if schema is not None:
            check_schema_name(schema)
    except KinesioError as error:
        raise KinesioError("Broken settings file", f"{path}: {error.message}") from None
    return url, schema


#: The URL schemes that name a PostgreSQL database (libpq accepts both).
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
#: A schema's name: lower-case letters, digits and _, as PostgreSQL folds unquoted names.
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def is_postgres_url(text: str) -> bool:
    return text.lower().startswith(POSTGRES_SCHEMES)


def check_database_url(url: object) -> str:
    """A postgresql:// URL without a password in it (user:secret@ or ?password=)."""
    if not isinstance(url, str) or not is_postgres_url(url):
        raise KinesioError("Not a database URL", "database.url should start with postgresql://.")
    parts = urlsplit(url)
    if parts.password is not None or "password=" in parts.query.lower():
        raise KinesioError(
            "Password in the database URL",
            "a password does not belong in the URL (others can read command lines and "
            "settings); put it in a 0600 passfile named by PGPASSFILE, or in ~/.pgpass.",
        )
    return url


def check_schema_name(schema: object) -> str:
    if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
        raise KinesioError(
            "Not a schema name",
            "database.schema should be lower-case letters, digits and _ (e.g. kinesio, "
            "branch_vln).",
        )
    return schema


def resolve_db_path(explicit: Path | None) -> Path:
    """The database path: `--db`, else $KINESIO_DB, else the user's data dir."""
    if explicit is not None:
        return explicit.expanduser()
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser()
    return default_db_path()


def private_dir(path: Path) -> Path:
    """Create `path` readable by the owner only (0700), and any parents it has to create too."""
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)
    os.chmod(path, 0o700)
    return path
