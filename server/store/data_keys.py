"""The keys that protect petitioners at rest: Fernet keys that encrypt identities, an HMAC key that indexes them.

Two secrets, from the environment in production:
- `XINFANG_DATA_KEYS`: Fernet keys (cryptography's MultiFernet), newest first, separated by commas or spaces.
  The first encrypts; every one decrypts. Rotation: put a new key first, run `xinfang data-keys rotate`
  (re-encrypts every identity under it), then drop the old ones.
- `XINFANG_INDEX_KEY`: the HMAC secret of the blind indexes (`petitioner_key`, the Idempotency-Key request
  hash), which match a petitioner's cases without storing who it is. It is never rotated: a new one would
  unlink every earlier petition from its petitioner.
With neither set (the embedded default, `make run`), both live in the instance folder beside the SQLite file
and the session secret (`data_keys`, `index_key`, mode 0600), made on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["DATA_KEYS_ENV", "INDEX_KEY_ENV", "DataKeyError", "Keyring", "blind_index", "from_environment",
           "keyring", "new_data_key", "new_index_key", "use_keyring"]

DATA_KEYS_ENV = "XINFANG_DATA_KEYS"
INDEX_KEY_ENV = "XINFANG_INDEX_KEY"
DATA_KEYS_FILE = "data_keys"  # one Fernet key a line, newest first
INDEX_KEY_FILE = "index_key"
MIN_INDEX_KEY = 32  # characters: a guessable secret would make the index a plain hash again


class DataKeyError(RuntimeError):
    """The keys are missing, malformed, or do not open a stored identity; the message says which and where."""


@dataclass(frozen=True)
class Keyring:
    """The data keys (newest first) and the index key, and where they came from (never the keys themselves)."""

    data_keys: tuple[str, ...]
    index_key: str
    origin: str
    _fernet: MultiFernet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.data_keys:
            raise DataKeyError(f"no data key ({self.origin})")
        fernets = []
        for n, key in enumerate(self.data_keys, 1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                raise DataKeyError(f"data key {n} of {len(self.data_keys)} ({self.origin}) is not a Fernet key "
                                   "(32 url-safe base64-encoded bytes; `xinfang data-keys new` makes one)") from None
        if len(self.index_key) < MIN_INDEX_KEY:
            raise DataKeyError(f"the index key ({self.origin}) has {len(self.index_key)} characters; it needs "
                               f"{MIN_INDEX_KEY} or more (`xinfang data-keys new --index` makes one)")
        object.__setattr__(self, "_fernet", MultiFernet(fernets))

    def seal(self, data: bytes) -> str:
        """`data` encrypted and authenticated under the first data key (a Fernet token)."""
        return self._fernet.encrypt(data).decode("ascii")

    def unseal(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError, AttributeError):
            raise self._unopened() from None

    def reseal(self, token: str) -> str:
        """The token re-encrypted under the first data key (rotation)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError, AttributeError):
            raise self._unopened() from None

    def _unopened(self) -> DataKeyError:
        return DataKeyError(f"a stored identity opens with none of the {len(self.data_keys)} data key(s) "
                            f"({self.origin}): was a key dropped before `xinfang data-keys rotate` finished?")

    def is_current(self, token: str) -> bool:
        """Whether the token is already under the first data key."""
        try:
            Fernet(self.data_keys[0]).decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def blind_index(self, text: str) -> str:
        """HMAC-SHA256 (hex) of text's sha256 digest under the index key: equal texts give equal indexes, and
        without the key nobody can compute one to try. Over the digest, so migration 0006 re-keyed the plain
        sha256 digests stored before it without the texts."""
        return self.rekey(hashlib.sha256(text.encode("utf-8")).hexdigest())

    def rekey(self, digest: str) -> str:
        """The blind index of the text whose sha256 hex digest this is."""
        return hmac.new(self.index_key.encode("utf-8"), digest.encode("ascii"), hashlib.sha256).hexdigest()


def new_data_key() -> str:
    return Fernet.generate_key().decode("ascii")


def new_index_key() -> str:
    return secrets.token_urlsafe(48)


def _keys_in(text: str) -> tuple[str, ...]:
    return tuple(k for k in re.split(r"[\s,]+", text.strip()) if k)


def from_environment(environ: Mapping[str, str] | None = None, instance_path: str | os.PathLike | None = None
                     ) -> Keyring:
    """The keys of XINFANG_DATA_KEYS and XINFANG_INDEX_KEY; with neither set, those of the instance folder
    (made there on first use). One of the two alone is refused: the other would silently come from a file."""
    environ = os.environ if environ is None else environ
    data_keys, index_key = environ.get(DATA_KEYS_ENV, "").strip(), environ.get(INDEX_KEY_ENV, "").strip()
    if data_keys or index_key:
        missing = INDEX_KEY_ENV if data_keys and not index_key else DATA_KEYS_ENV if index_key and not data_keys \
            else None
        if missing:
            raise DataKeyError(f"{missing} is not set: set both {DATA_KEYS_ENV} and {INDEX_KEY_ENV}, or neither "
                               "(the embedded default keeps them in the instance folder)")
        return Keyring(_keys_in(data_keys), index_key, "the environment")
    if instance_path is None:
        from .db import default_instance_path
        instance_path = default_instance_path()
    folder = Path(instance_path)
    data_keys = _made_once(folder / DATA_KEYS_FILE, new_data_key)
    return Keyring(_keys_in(data_keys), _made_once(folder / INDEX_KEY_FILE, new_index_key).strip(), str(folder))


def _made_once(path: Path, make) -> str:
    """The file's text; written first when missing (mode 0600), so two processes starting at once agree."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        draft.write_text(make() + "\n")
        draft.chmod(0o600)
        try:
            os.link(draft, path)  # fails if another process made it first: theirs is kept
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text()


_current: Keyring | None = None


def keyring() -> Keyring:
    """The process's keys: those use_keyring() set, else from_environment() (read once)."""
    global _current
    if _current is None:
        _current = from_environment()
    return _current


def use_keyring(ring: Keyring | None) -> None:
    """Use these keys from now on (tests, a rotation); None reads the environment again on next use."""
    global _current
    _current = ring


def blind_index(text: str) -> str:
    """keyring().blind_index(text)."""
    return keyring().blind_index(text)
