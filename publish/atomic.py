"""Atomic, write-only-if-changed file output (temp file in the same directory + os.replace)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

# Published files are served by a web server, so they must be world-readable; mkstemp
# creates 0600 files.
DEFAULT_MODE = 0o644


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically, unless the file already holds exactly these bytes.

    The bytes go to a temporary file in the same directory, are fsynced and then renamed over
    ``path`` with ``os.replace``, so a reader sees either the old or the new file, never a
    half-written one. Parent directories are created. An existing file's permissions are kept.

    Returns True when the file was written, False when it was already identical (the file is
    then not touched at all: its mtime stays, which keeps ETag/Last-Modified stable).
    On failure the temporary file is removed and the exception propagates.
    """
    path = Path(path)
    mode = DEFAULT_MODE
    try:
        stat = path.stat()
    except FileNotFoundError:
        pass
    else:
        mode = stat.st_mode & 0o7777
        # Compare sizes first so a changed large dump is not read back needlessly.
        if stat.st_size == len(data) and path.read_bytes() == data:
            return False

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_directory(path.parent)
    return True


def _fsync_directory(directory: Path) -> None:
    """Flush the directory entry so the rename survives a crash (best effort, POSIX only)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
