"""Writing files safely: whole or not at all, with the permissions a new file would get."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename.

    Readers see the old content or the new, never a partial file. The file gets
    the mode an ordinary new file would (``0o666`` less the umask), not the
    private mode of a temporary file.
    """
    write_bytes_atomically(path, text.encode("utf-8"), sync=False)


def write_bytes_atomically(
    path: Path, data: bytes, *, sync: bool = True, mode: int | None = None
) -> None:
    """Write ``data`` to ``path`` as :func:`write_text_atomically` does; with ``sync``
    the data reach the disk before the rename (a history rewritten must survive a
    crash); ``mode`` keeps a rewritten file's permissions (a shared history's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            if sync:
                stream.flush()
                os.fsync(stream.fileno())
        os.chmod(temporary, _default_mode() if mode is None else mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_user_text(path: Path, what: str, error: type[Exception]) -> str:
    """The UTF-8 text of a file a user wrote (a schema, a suite); ``error`` says what is wrong.

    ``what`` names the file's role in messages, e.g. ``"schema file"``.
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} {path} not found") from None
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path} is not UTF-8 text: {exc.reason}; save it as UTF-8") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
