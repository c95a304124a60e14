"""Crash-safe file replacement: write a temporary file beside the target, fsync, rename.

What ``open(path, 'wb')`` would keep is kept: an existing file's permission bits (a new file gets
``0o666 & ~umask``), and a symlink stays a symlink (the file it points to is replaced).
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from typing import IO, Iterator


def resolve_target(path: str | os.PathLike) -> str:
    """The file a write to ``path`` lands in: symlinks resolved; a directory is an IsADirectoryError,
    a missing folder a FileNotFoundError naming ``path`` (not the temporary file written beside it)."""
    path = os.fspath(path)
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise IsADirectoryError(
            errno.EISDIR, f"Cannot save to {path!r}: it is a directory, expected a file path"
        )
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            errno.ENOENT, f"Cannot save to {path!r}: the folder {os.path.dirname(path) or folder!r} does not exist"
        )
    return target


def _create_temp(directory: str, base: str) -> tuple[int, str]:
    """A new temporary file beside the target, created with mode 0o666 (the umask applies, as for ``open``)."""
    for _ in range(100):
        tmp = os.path.join(directory, f".tmp-{secrets.token_hex(6)}-{base}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "No usable temporary file name", directory)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """Yield a binary file; on success it replaces ``path`` atomically, on error ``path`` is untouched.

    Writing through a symlink replaces its target (the temporary file goes beside the target); an
    existing file keeps its permission bits. A directory ``path`` is an ``IsADirectoryError``.
    """
    target = resolve_target(path)
    directory = os.path.dirname(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None  # a new file: 0o666 & ~umask, from os.open
    fd, tmp = _create_temp(directory, os.path.basename(target))
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.chmod(tmp, mode)
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
