"""The discovery file is trusted only when it is the runtime's own: in the workspace asked about
(never an enclosing folder, never through a folder another user owns), a regular file owned by the
current user, mode exactly 0600. Real files; another owner is made with os.chown (tests run as root)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from loom import RuntimeNotFound, resolve_endpoint
from loom.discovery import data_dir_of, discovery_path, find_discovery_file, find_workspace

OTHER_UID = 65534  # nobody

needs_root = pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0,
                                reason="giving a file to another user needs root")


def write_discovery(
    workspace: Path, data_dir: str = ".loom", mode: int = 0o600, address: str = "127.0.0.1:7001"
) -> Path:
    folder = workspace / data_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "runtime.json"
    path.write_text(json.dumps({"address": address, "token": "file-token", "pid": 1, "version": "t"}))
    path.chmod(mode)
    return path


def refusal(workspace: Path) -> str:
    with pytest.raises(RuntimeNotFound) as info:
        resolve_endpoint(env={}, cwd=workspace)
    return str(info.value)


def test_the_runtimes_own_file_is_used(tmp_path):
    path = write_discovery(tmp_path)
    ep = resolve_endpoint(env={}, cwd=tmp_path)
    assert (ep.address, ep.token, ep.source) == ("127.0.0.1:7001", "file-token", str(path))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666, 0o700, 0o400, 0o610])
def test_a_mode_other_than_0600_is_refused_naming_file_and_mode(tmp_path, mode):
    path = write_discovery(tmp_path, mode=mode)
    msg = refusal(tmp_path)
    assert str(path) in msg
    assert f"its mode is {mode:04o}, not 0600" in msg


@needs_root
def test_a_file_another_user_owns_is_refused_naming_the_uid(tmp_path):
    path = write_discovery(tmp_path)
    os.chown(path, OTHER_UID, OTHER_UID)
    msg = refusal(tmp_path)
    assert str(path) in msg
    assert f"owned by uid {OTHER_UID}, not by the current user (uid {os.getuid()})" in msg


def test_a_refused_file_is_not_consulted_for_the_token_either(tmp_path):
    write_discovery(tmp_path, mode=0o644)
    with pytest.raises(RuntimeNotFound, match="mode is 0644"):
        resolve_endpoint("127.0.0.1:9", env={}, cwd=tmp_path)
    # With address and token given, the file is not read at all.
    assert resolve_endpoint("127.0.0.1:9", "t", env={}, cwd=tmp_path).token == "t"


def test_a_symbolic_link_is_refused(tmp_path):
    real = write_discovery(tmp_path / "elsewhere")
    (tmp_path / ".loom").mkdir()
    (tmp_path / ".loom" / "runtime.json").symlink_to(real)
    msg = refusal(tmp_path)
    assert str(tmp_path / ".loom" / "runtime.json") in msg and "symbolic link" in msg


def test_a_folder_in_place_of_the_file_is_refused(tmp_path):
    (tmp_path / ".loom" / "runtime.json").mkdir(parents=True)
    msg = refusal(tmp_path)
    assert str(tmp_path / ".loom" / "runtime.json") in msg and "not a regular file" in msg


@needs_root
def test_a_file_in_an_enclosing_folder_another_user_owns_is_not_used(tmp_path):
    # /shared (another user's) holds a perfectly good-looking file of ours; we work in /shared/me/ws.
    shared = tmp_path / "shared"
    write_discovery(shared, address="127.0.0.1:6666")
    ws = shared / "me" / "ws"
    ws.mkdir(parents=True)
    os.chown(shared, OTHER_UID, OTHER_UID)
    assert find_discovery_file(ws) is None
    assert find_workspace(ws) is None
    msg = refusal(ws)
    assert "6666" not in msg and "in folders the current user owns" in msg


@needs_root
def test_a_folder_another_user_owns_is_not_searched_even_when_asked_about(tmp_path):
    ws = tmp_path / "theirs"
    write_discovery(ws)
    os.chown(ws, OTHER_UID, OTHER_UID)
    assert find_discovery_file(ws) is None
    with pytest.raises(RuntimeNotFound):
        resolve_endpoint(env={}, cwd=ws)


def test_the_file_of_a_folder_enclosing_the_workspace_is_not_used(tmp_path):
    write_discovery(tmp_path, address="127.0.0.1:6666")
    ws = tmp_path / "projects" / "ws"
    ws.mkdir(parents=True)
    (ws / "loom.toml").write_text("")
    sub = ws / "src"
    sub.mkdir()
    assert find_workspace(sub) == ws
    assert find_discovery_file(sub) is None
    msg = refusal(sub)
    assert "6666" not in msg and f"{ws / '.loom' / 'runtime.json'} does not exist" in msg


def test_from_a_folder_inside_the_workspace_its_own_file_is_used(tmp_path):
    (tmp_path / "loom.toml").write_text("")
    path = write_discovery(tmp_path)
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert resolve_endpoint(env={}, cwd=sub).source == str(path)


def test_data_dir_of_the_workspace_is_followed(tmp_path):
    (tmp_path / "loom.toml").write_text('[runtime]\ndata_dir = "state/loom"\n')
    write_discovery(tmp_path, address="127.0.0.1:6666")  # the default folder: not this workspace's
    path = write_discovery(tmp_path, data_dir="state/loom")
    assert discovery_path(tmp_path) == path
    assert resolve_endpoint(env={}, cwd=tmp_path).address == "127.0.0.1:7001"


@pytest.mark.parametrize("data_dir", ["/tmp/elsewhere", "..", "../x", "a/../../x", ".", "a/..", "  ", 5])
def test_a_data_dir_outside_the_workspace_means_the_default(tmp_path, data_dir):
    (tmp_path / "loom.toml").write_text(f"[runtime]\ndata_dir = {json.dumps(data_dir)}\n")
    assert data_dir_of(tmp_path) == ".loom"
    assert discovery_path(tmp_path) == tmp_path / ".loom" / "runtime.json"


@pytest.mark.parametrize("data_dir", ["state", "state/loom", "a/../b", "..x"])
def test_a_data_dir_inside_the_workspace_is_kept(tmp_path, data_dir):
    (tmp_path / "loom.toml").write_text(f"[runtime]\ndata_dir = {json.dumps(data_dir)}\n")
    assert data_dir_of(tmp_path) == data_dir


def test_a_bad_loom_toml_means_the_default(tmp_path):
    (tmp_path / "loom.toml").write_text("[runtime\n")
    assert data_dir_of(tmp_path) == ".loom"


def test_a_fifo_in_place_of_the_file_is_refused_without_hanging(tmp_path):
    (tmp_path / ".loom").mkdir()
    os.mkfifo(tmp_path / ".loom" / "runtime.json", 0o600)
    assert "not a regular file" in refusal(tmp_path)


@pytest.mark.parametrize("address", ["192.0.2.2:47123", "localhost:7001", "evil.example:7001"])
def test_an_address_off_the_loopback_is_refused(tmp_path, address):
    write_discovery(tmp_path, address=address)
    assert f"it names {address!r}, not 127.0.0.1 or ::1" in refusal(tmp_path)


def test_ipv6_loopback_is_used(tmp_path):
    write_discovery(tmp_path, address="::1:7001")
    assert resolve_endpoint(env={}, cwd=tmp_path).address == "::1:7001"
