"""The atomic write keeps what ``open(path, 'wb')`` keeps (issue 8): the permission bits of an existing
file (``0o666 & ~umask`` for a new one) and symlinks (the target is replaced, not the link); a directory
path is a clear IsADirectoryError. Whatever happens, no temporary file is left behind."""
from __future__ import annotations

import os
import stat

import pytest
import torch

import kerastorch as kt
from kerastorch.layers import Conv2D

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits and symlinks")


def model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    m = torch.nn.Sequential(Conv2D(3, 1, name="c"))
    m(torch.zeros(1, 2, 2, 2))
    return m


def _save_safetensors(m, path):
    kt.save_weights(m, path)


def _load_safetensors(m, path):
    kt.load_weights(m, path)


def _save_keras(m, path):
    kt.save_keras_weights(m, path)


def _load_keras(m, path):
    kt.load_keras_weights(m, path)


FORMATS = pytest.mark.parametrize(
    "save, load, suffix",
    [(_save_safetensors, _load_safetensors, ".safetensors"), (_save_keras, _load_keras, ".weights.h5"), (_save_keras, _load_keras, ".h5")],
    ids=["safetensors", "keras3", "tf_keras"],
)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda value: os.umask(value)
    os.umask(old)


@FORMATS
@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_new_file_mode_follows_the_umask(tmp_path, umask, save, load, suffix, mask):
    umask(mask)
    path = tmp_path / f"w{suffix}"
    save(model(), path)
    assert mode(path) == 0o666 & ~mask  # was always 0o600
    assert os.listdir(tmp_path) == [path.name]


@FORMATS
@pytest.mark.parametrize("existing", [0o664, 0o640, 0o600, 0o444])
def test_existing_file_keeps_its_mode(tmp_path, umask, save, load, suffix, existing):
    umask(0o077)
    path = tmp_path / f"w{suffix}"
    save(model(0), path)
    os.chmod(path, existing)
    save(model(1), path)
    assert mode(path) == existing  # a 0o664 file used to become 0o600
    loaded = model(2)
    load(loaded, path)
    assert torch.equal(loaded[0].kernel, model(1)[0].kernel)


@FORMATS
@pytest.mark.parametrize("relative", [True, False], ids=["relative_link", "absolute_link"])
def test_symlink_is_written_through(tmp_path, save, load, suffix, relative):
    """link -> real: the link stays a link and the real file gets the new weights (it used to be replaced
    by a regular file, the target left stale); the temporary file goes beside the target."""
    (tmp_path / "store").mkdir()
    (tmp_path / "links").mkdir()
    real = tmp_path / "store" / f"real{suffix}"
    link = tmp_path / "links" / f"link{suffix}"
    save(model(0), real)
    os.chmod(real, 0o640)
    link.symlink_to(os.path.join("..", "store", real.name) if relative else real)
    save(model(1), link)
    assert link.is_symlink() and os.readlink(link) == (os.path.join("..", "store", real.name) if relative else str(real))
    assert mode(real) == 0o640
    loaded = model(2)
    load(loaded, real)
    assert torch.equal(loaded[0].kernel, model(1)[0].kernel)
    assert os.listdir(tmp_path / "store") == [real.name] and os.listdir(tmp_path / "links") == [link.name]


@FORMATS
def test_dangling_symlink_creates_its_target(tmp_path, umask, save, load, suffix):
    umask(0o022)
    real, link = tmp_path / f"real{suffix}", tmp_path / f"link{suffix}"
    link.symlink_to(real)
    save(model(1), link)
    assert link.is_symlink() and real.is_file() and mode(real) == 0o644
    assert sorted(os.listdir(tmp_path)) == sorted([real.name, link.name])


@FORMATS
def test_directory_path_is_a_clear_error(tmp_path, save, load, suffix):
    target = tmp_path / f"dir{suffix}"
    target.mkdir()
    link = tmp_path / "to_dir"
    link.symlink_to(target)
    for path in (target, link, tmp_path):
        with pytest.raises(IsADirectoryError, match="it is a directory, expected a file path"):
            save(model(), path)
    assert sorted(os.listdir(tmp_path)) == sorted([target.name, link.name]) and os.listdir(target) == []


def test_failed_write_through_symlink_keeps_target(tmp_path, monkeypatch):
    from kerastorch.saving import atomic

    real, link = tmp_path / "real.safetensors", tmp_path / "link.safetensors"
    kt.save_weights(model(0), real)
    link.symlink_to(real)
    old = real.read_bytes()

    def crash(fd):
        raise OSError("disk died mid-write")

    monkeypatch.setattr(atomic.os, "fsync", crash)
    with pytest.raises(OSError, match="disk died"):
        kt.save_weights(model(1), link)
    assert real.read_bytes() == old and link.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["link.safetensors", "real.safetensors"]
