"""The audit trail's key: a secret kept outside the database, in the config directory.

The trail's entries are chained with HMAC-SHA256 under this key, so someone who has the
database file but not the key cannot rewrite the trail and make it verify again. Someone
with the key (the same OS account, or anyone who can read the file) can; the key is a
defence against a copied or handed-over database file, not against the account itself.

`<config dir>/audit.key` (or $KINESIO_AUDIT_KEY): 64 hex digits, 0600, created on first
write. Reading commands never create it. Its id (a hash of the key, not the key) is stored
with each entry, so a trail made with another machine's key says which key it needs.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from kinesio_tui.errors import KinesioError
from kinesio_tui.locations import config_dir, private_dir
from kinesio_tui.private_files import TargetExists, write_private_file

KEY_ENV = "KINESIO_AUDIT_KEY"
KEY_FILE = "audit.key"
#: The link before a trail's first entry.
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditKey:
    """The secret and its public id (first 16 hex digits of an HMAC of a fixed label)."""

    secret: bytes
    id: str

    def sign(self, message: str) -> str:
        return keyed_sha256(self.secret, message.encode())


def keyed_sha256(secret: bytes, message: bytes) -> str:
    """HMAC-SHA256 in hex. hmac and hashlib load OpenSSL (+0.6 MiB resident, measured with
    /proc's VmRSS): imported at the first signature, so a workstation that only reads never
    loads them (memory is a start-up target: <= 1.3x a bare Textual app)."""
    import hashlib
    import hmac

    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def key_path() -> Path:
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env).expanduser()
    return config_dir() / KEY_FILE


def _parse(path: Path, text: str) -> AuditKey:
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise KinesioError(
            "Damaged audit key", f"{path} should hold 64 hex digits; restore it from your backups."
        )
    key_id = keyed_sha256(secret, b"kinesio-tui audit key id")[:16]
    return AuditKey(secret, key_id)


_paths: dict[tuple[str | None, ...], str] = {}
_loaded: dict[str, AuditKey] = {}


def _key_file() -> str:
    """key_path() as a string, worked out once per environment (it is on every write)."""
    env = tuple(os.environ.get(name) for name in (KEY_ENV, "XDG_CONFIG_HOME", "HOME"))
    found = _paths.get(env)
    if found is None:
        found = _paths[env] = str(key_path())
    return found


def load_key(*, create: bool) -> AuditKey | None:
    """The key, read once per process and file; None if there is none and `create` is False.

    Once read, a key is kept for the process's life: a session signs with one key.
    """
    file = _key_file()
    known = _loaded.get(file)
    if known is not None:
        return known
    try:
        st = os.stat(file)
    except FileNotFoundError:
        if not create:
            return None
        return _create(Path(file))
    except OSError as error:
        raise KinesioError("Cannot read the audit key", f"{file}: {error.strerror}.") from None
    path = Path(file)
    if not stat.S_ISREG(st.st_mode):
        raise KinesioError("Cannot read the audit key", f"{path} is not a regular file.")
    if st.st_mode & 0o077 and st.st_uid == os.getuid():
        os.chmod(path, 0o600)  # a key others can read protects nothing
    try:
        key = _parse(path, path.read_text(encoding="ascii", errors="replace"))
    except OSError as error:
        raise KinesioError("Cannot read the audit key", f"{path}: {error.strerror}.") from None
    _loaded[file] = key
    return key


def _create(path: Path) -> AuditKey:
    """Write a new key atomically: a whole file appears under the name, or none does."""
    try:
        if not path.parent.exists():
            private_dir(path.parent)
        import secrets  # loads hmac and hashlib, see keyed_sha256

        # never replaces a key another process made meanwhile: theirs is the key
        with contextlib.suppress(TargetExists):
            write_private_file(path, (secrets.token_hex(32) + "\n").encode())
    except OSError as error:
        raise KinesioError("Cannot create the audit key", f"{path}: {error.strerror}.") from None
    key = load_key(create=False)
    assert key is not None
    return key


def seal_signature(key: AuditKey, legacy_entries: int, legacy_hash: str) -> str:
    """The seal over the unkeyed entries a file held when it was first keyed."""
    return key.sign(f"seal|{legacy_entries}|{legacy_hash}")
