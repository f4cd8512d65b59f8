"""Atomic, write-if-changed output: one file (temp file, os.replace) or a whole tree (a swap)."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import itertools
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


# --- a whole tree at once -------------------------------------------------------------------

_RENAME_EXCHANGE = 2  # linux/fs.h
_CHUNK = 1 << 20


def _libc_function(name: str) -> Any:
    """Return a function of the C library, or None where it has none (macOS, musl, Windows)."""
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), name)
    except (AttributeError, OSError, TypeError):
        return None


_renameat2 = _libc_function("renameat2")  # glibc 2.28+
_syncfs = _libc_function("syncfs")
_AT_FDCWD = -100


def exchange(first: Path, second: Path) -> None:
    """Swap two directory entries in one step (renameat2 RENAME_EXCHANGE, Linux 3.15+).

    Raises OSError where the system or the file system cannot (then ``errno`` is EINVAL,
    ENOSYS or ENOTSUP): the caller falls back to replacing file by file.
    """
    if _renameat2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available", str(first))
    result = _renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first), None, str(second))


def sync_tree(directory: Path) -> None:
    """Make every file written under ``directory`` durable in one call (syncfs, else sync).

    One flush of the file system instead of an fsync per file and folder: the journal commits
    once for thousands of files.
    """
    fd = os.open(directory, os.O_RDONLY)
    try:
        if _syncfs is None or _syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


Chunks = bytes | Iterable[bytes]
"""What a renderer returns: the file's bytes, or its bytes in pieces (a streamed dump)."""


@dataclass
class TreeWriter:
    """Write the next generation of a published tree beside it, then swap it in at once.

    ``out`` stays a real directory that users and web servers point at. The new generation is
    built in the hidden sibling ``.<name>.next``: changed files are written there, every other
    file of the current tree (unchanged ones, and whatever else lives in it) is hard-linked, so
    it keeps its bytes, inode and mtime (ETags stay). One ``syncfs`` makes it durable, then
    ``renameat2(RENAME_EXCHANGE)`` swaps the two directories in one step: a reader resolving a
    path sees either the whole old tree or the whole new one, and a reader that holds the old
    directory (or a file in it) open keeps reading the old generation, which stays complete as
    ``.<name>.prev`` until the next publication starts. When nothing changed, nothing is
    swapped. ``.<name>.lock`` keeps two publications of one tree apart.

    Where the swap is impossible (``swap=False``, no renameat2, a parent folder that cannot be
    written, a file system without RENAME_EXCHANGE, a mount point or a file that cannot be
    hard-linked inside the tree) the changed files are written as hidden temporary files beside
    their targets and renamed over them one by one at commit, pages last: a reader never sees
    a half-written file, but may see files of two runs side by side for a moment. In both
    modes nothing in ``out`` changes before ``commit``, so a failure leaves the tree as it was.
    """

    out: Path
    swap: bool = True
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    swapped: bool = False

    def __post_init__(self) -> None:
        self.out = Path(os.path.abspath(self.out))
        if self.out.is_symlink():
            # Swap the directory the link points at, never the link itself.
            self.out = self.out.resolve()
        self.stage = self.out.parent / f".{self.out.name}.next"
        self.previous = self.out.parent / f".{self.out.name}.prev"
        self._dirs: set[str] = set()
        self._done: set[str] = set()
        # Files to rename into ``out`` at commit when not swapping: (temporary file, target).
        self._pending: list[tuple[Path, str]] = []
        self._lock: int | None = None
        # Small files staged in this run by (mode, digest of their bytes): see _link_twin.
        self._twins: dict[tuple[int, bytes], str] = {}

    def __enter__(self) -> TreeWriter:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if _renameat2 is None:
            self.swap = False
        with contextlib.suppress(OSError):
            self._lock = os.open(
                self.out.parent / f".{self.out.name}.lock", os.O_RDWR | os.O_CREAT, 0o644
            )
            fcntl.flock(self._lock, fcntl.LOCK_EX)
        if self.swap:
            try:
                # A run killed half-way leaves its stage; the generation before last goes now.
                for leftover in (self.stage, self.previous):
                    if leftover.exists() or leftover.is_symlink():
                        _remove(leftover)
                os.mkdir(self.stage, 0o755)
            except OSError:
                self.swap = False  # e.g. a parent folder we may not write
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(self.stage, stat.S_IMODE(self.out.stat().st_mode))
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        try:
            if kind is not None:  # a failed publication leaves the tree as it was
                for temporary, _ in self._pending:
                    with contextlib.suppress(FileNotFoundError):
                        temporary.unlink()
                if self.stage.exists():
                    _remove(self.stage)
        finally:
            if self._lock is not None:
                os.close(self._lock)  # releases the flock

    def write(self, relative: str, data: Chunks) -> bool:
        """Put file ``relative`` into the next generation; True when its bytes changed.

        Bytes equal to the current file's make a hard link to it instead of a new file.
        """
        self._done.add(relative)
        current = self.out / relative
        try:
            info: os.stat_result | None = current.lstat()
        except (FileNotFoundError, NotADirectoryError):
            info = None
        if info is not None and not stat.S_ISREG(info.st_mode):
            info = None
        if self.swap:
            self._mkdirs(relative)
            target = self.stage / relative
        else:
            current.parent.mkdir(parents=True, exist_ok=True)
            target = current.parent / f".{current.name}.{secrets.token_hex(4)}.tmp"
        if not isinstance(data, bytes | bytearray | memoryview):
            data = _whole_if_small(data)
        if isinstance(data, bytes | bytearray | memoryview):
            same = info is not None and info.st_size == len(data) and _equal(current, data)
            if not same and not self._link_twin(relative, target, data, info):
                _write_new(target, [data], info)
        else:
            same = _write_compared(target, data, current if info else None, info)
        if same:
            self.unchanged.append(relative)
            if self.swap:
                self._link(current, relative)
            return False
        self.written.append(relative)
        if not self.swap:
            self._pending.append((target, relative))
        return True

    def _link_twin(
        self, relative: str, target: Path, data: bytes | bytearray | memoryview,
        info: os.stat_result | None,
    ) -> bool:  # fmt: skip
        """Hard-link ``target`` to a file of the same bytes staged before; True when done.

        Many scopes have files of the same bytes (the map or the events table of a source
        without events); a link costs a directory entry, a new file an inode, which on some
        file systems costs a millisecond of CPU. Published files are never changed in place
        (a changed file is a new one), so a shared inode stays right for every name it has.
        """
        if not self.swap or len(data) > _TWIN_SIZE:
            return False
        mode = DEFAULT_MODE if info is None else stat.S_IMODE(info.st_mode)
        key = (mode, hashlib.blake2b(data, digest_size=16).digest())
        twin = self._twins.get(key)
        if twin is None:
            self._twins[key] = relative  # written by the caller now
            return False
        try:
            os.link(self.stage / twin, target, follow_symlinks=False)
        except OSError:
            return False
        return True

    def _link(self, source: Path | str, relative: str) -> None:
        """Hard-link a file of the current tree into the stage, or give up swapping."""
        try:
            os.link(source, self.stage / relative, follow_symlinks=False)
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            self._give_up_swapping()

    def _give_up_swapping(self) -> None:
        """Go on file by file: what is staged already is renamed into ``out`` at commit."""
        self.swap = False
        self._pending = [(self.stage / relative, relative) for relative in self.written]

    def carry_over(self, drop: Callable[[str], bool]) -> None:
        """Hard-link every other file of the current tree into the next generation.

        ``drop(relative)`` names the files to leave behind (a gone scope's own files, and
        folders that hold nothing but those, with a trailing "/"); they are listed in
        ``removed``. Without swapping only ``removed`` is filled.
        """
        if not self.out.is_dir():
            return
        for folder, dirs, files in os.walk(self.out):
            relative_folder = os.path.relpath(folder, self.out)
            prefix = "" if relative_folder == "." else relative_folder.replace(os.sep, "/") + "/"
            for name in files:
                relative = prefix + name
                if relative in self._done:
                    continue
                if drop(relative):
                    self.removed.append(relative)
                elif self.swap:
                    self._mkdirs(relative)
                    self._link(os.path.join(folder, name), relative)
            for name in dirs:
                path = os.path.join(folder, name)
                if not self.swap:
                    continue
                if os.path.islink(path):  # a link to a folder is carried as a link
                    self._mkdirs(prefix + name)
                    os.symlink(os.readlink(path), self.stage / (prefix + name))
                elif os.path.ismount(path):
                    self._give_up_swapping()  # a mount point cannot move with the tree
                elif not drop(prefix + name + "/"):
                    self._mkdirs(prefix + name + "/x")
            dirs[:] = [name for name in dirs if not os.path.islink(os.path.join(folder, name))]

    def commit(self, last: Callable[[str], bool] = lambda relative: False) -> None:
        """Make the next generation the tree (see the class); ``last`` names the files that
        are renamed last when going file by file (pages, which link to the others)."""
        if not self.swap:
            self._replace_in_place(last)
            return
        if not (self.written or self.removed) and self.out.is_dir():
            _remove(self.stage)  # unchanged: the tree and every mtime stay as they are
            return
        sync_tree(self.stage)
        if not self.out.exists():
            os.rename(self.stage, self.out)
            self.swapped = True
        else:
            try:
                exchange(self.stage, self.out)
            except OSError:
                self._give_up_swapping()
                self._replace_in_place(last)
                return
            self.swapped = True
            os.rename(self.stage, self.previous)
        _fsync_directory(self.out.parent)

    def _replace_in_place(self, last: Callable[[str], bool]) -> None:
        if self._pending:
            sync_tree(self._pending[0][0].parent)
        for temporary, relative in sorted(self._pending, key=lambda pair: last(pair[1])):
            target = self.out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(temporary, target)
            except OSError as error:
                if error.errno != errno.EXDEV:
                    raise
                write_if_changed(target, temporary.read_bytes())  # into a mounted folder
                temporary.unlink()
        self._pending = []
        for relative in self.removed:
            with contextlib.suppress(FileNotFoundError):
                (self.out / relative).unlink()
        # Deepest folders first; a folder that still holds something else stays.
        for relative in sorted({r.rsplit("/", 1)[0] for r in self.removed if "/" in r},
                               key=lambda r: -r.count("/")):  # fmt: skip
            folder = self.out / relative
            while folder != self.out:
                with contextlib.suppress(OSError):
                    folder.rmdir()
                folder = folder.parent
        _fsync_directory(self.out)
        if self.stage.exists():
            _remove(self.stage)

    def _mkdirs(self, relative: str) -> None:
        """Create the folders of ``relative`` in the stage (once each)."""
        folder = relative.rpartition("/")[0]
        missing: list[str] = []
        while folder and folder not in self._dirs:
            missing.append(folder)
            folder = folder.rpartition("/")[0]
        for folder in reversed(missing):
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.stage / folder, 0o755)
            self._dirs.add(folder)


def _equal(path: Path, data: bytes | bytearray | memoryview) -> bool:
    """Tell whether the file at ``path`` holds exactly ``data`` (its size already matches)."""
    with open(path, "rb") as fh:
        view = memoryview(data)
        for start in range(0, len(view), _CHUNK):
            if fh.read(_CHUNK) != view[start : start + _CHUNK]:
                return False
    return True


def _whole_if_small(chunks: Iterable[bytes]) -> bytes | Iterator[bytes]:
    """Return the chunks as one bytes object when there is at most one, else an iterator of
    them all (a streamed file that turned out small is written like a rendered one)."""
    pieces = iter(chunks)
    first = next(pieces, b"")
    second = next(pieces, None)
    if second is None:
        return first
    return itertools.chain((first, second), pieces)


_TWIN_SIZE = 1 << 16  # larger files are seldom twins; hashing them would cost more


def _write_new(target: Path, chunks: Iterable[bytes], info: os.stat_result | None) -> None:
    """Write a new file (mode 0644, or the mode of the file it replaces); no fsync here."""
    mode = DEFAULT_MODE if info is None else stat.S_IMODE(info.st_mode)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
    os.chmod(target, mode)  # the umask may have narrowed it


def _write_compared(
    target: Path, chunks: Iterable[bytes], current: Path | None, info: os.stat_result | None
) -> bool:
    """Compare ``chunks`` with ``current`` and write them to ``target`` only once they differ.

    Returns True (and writes nothing) when the bytes equal the current file's. While they
    match, nothing is written; at the first difference the matching part is copied from the
    current file and the rest streamed after it, so an unchanged 100 MB dump costs a read.
    """
    pieces = iter(chunks)
    if current is not None:
        matched = 0
        with open(current, "rb") as old:
            for chunk in pieces:
                if old.read(len(chunk)) != chunk:
                    break
                matched += len(chunk)
            else:
                if not old.read(1):
                    return True  # same bytes, same length
                chunk = b""  # the current file is longer: the new one is its prefix
            old.seek(0)
            _write_new(target, _prefix_then(old, matched, chunk, pieces), info)
        return False
    _write_new(target, pieces, info)
    return False


def _prefix_then(
    old: Any, length: int, chunk: bytes, rest: Iterator[bytes]
) -> Iterator[bytes]:
    """Yield the first ``length`` bytes of file ``old``, then ``chunk``, then ``rest``."""
    while length > 0:
        piece = old.read(min(_CHUNK, length))
        if not piece:
            break
        length -= len(piece)
        yield piece
    if chunk:
        yield chunk
    yield from rest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
