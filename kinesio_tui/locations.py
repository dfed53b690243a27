"""Where kinesio-tui keeps its files. Paths are computed when asked, never at import."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "kinesio-tui"
DB_ENV = "KINESIO_DB"


def data_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


def config_dir() -> Path:
    import platformdirs

    return platformdirs.user_config_path(APP_NAME)


def default_db_path() -> Path:
    return data_dir() / "kinesio.db"


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
