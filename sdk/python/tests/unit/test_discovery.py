import json
import os

import pytest

from loom import RuntimeNotFound, resolve_endpoint
from loom.discovery import find_discovery_file


def write_discovery(folder, address="127.0.0.1:7001", token="file-token"):
    d = folder / ".loom"
    d.mkdir(parents=True, exist_ok=True)
    (d / "runtime.json").write_text(json.dumps({"address": address, "token": token, "pid": 1, "version": "t"}))
    (d / "runtime.json").chmod(0o600)  # as the runtime writes it: a wider file is refused
    return d / "runtime.json"


def test_arguments_win_over_environment_and_file(tmp_path):
    write_discovery(tmp_path)
    env = {"LOOM_BRIDGE_ADDR": "127.0.0.1:7002", "LOOM_TOKEN": "env-token"}
    ep = resolve_endpoint("127.0.0.1:7003", "arg-token", env=env, cwd=tmp_path)
    assert (ep.address, ep.token, ep.source) == ("127.0.0.1:7003", "arg-token", "argument")


def test_environment_wins_over_file(tmp_path):
    write_discovery(tmp_path)
    env = {"LOOM_BRIDGE_ADDR": "127.0.0.1:7002", "LOOM_TOKEN": "env-token"}
    ep = resolve_endpoint(env=env, cwd=tmp_path)
    assert (ep.address, ep.token, ep.source) == ("127.0.0.1:7002", "env-token", "environment")
    assert not ep.from_file


def test_file_found_from_a_subfolder_upwards(tmp_path):
    path = write_discovery(tmp_path)
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    ep = resolve_endpoint(env={}, cwd=deep)
    assert (ep.address, ep.token) == ("127.0.0.1:7001", "file-token")
    assert ep.source == str(path) and ep.from_file
    assert find_discovery_file(deep) == path


def test_each_value_comes_from_the_first_place_that_has_it(tmp_path):
    write_discovery(tmp_path)
    # address from the argument, token from the file
    ep = resolve_endpoint("127.0.0.1:9", env={}, cwd=tmp_path)
    assert (ep.address, ep.token) == ("127.0.0.1:9", "file-token")
    # address from the environment, token from the environment, file ignored
    ep = resolve_endpoint(env={"LOOM_BRIDGE_ADDR": "127.0.0.1:8", "LOOM_TOKEN": "t"}, cwd=tmp_path)
    assert (ep.address, ep.token) == ("127.0.0.1:8", "t")


def test_nothing_found_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeNotFound) as info:
        resolve_endpoint(env={}, cwd=tmp_path)
    msg = str(info.value)
    assert "LOOM_BRIDGE_ADDR" in msg and ".loom/runtime.json" in msg and str(tmp_path) in msg


def test_broken_discovery_file_is_named(tmp_path):
    d = tmp_path / ".loom"
    d.mkdir()
    (d / "runtime.json").write_text("{not json")
    with pytest.raises(RuntimeNotFound) as info:
        resolve_endpoint(env={}, cwd=tmp_path)
    assert str(d / "runtime.json") in str(info.value)


def test_process_environment_is_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_BRIDGE_ADDR", "127.0.0.1:7777")
    monkeypatch.setenv("LOOM_TOKEN", "process-token")
    monkeypatch.chdir(tmp_path)
    ep = resolve_endpoint()
    assert (ep.address, ep.token) == ("127.0.0.1:7777", "process-token")
    assert os.environ["LOOM_BRIDGE_ADDR"] == "127.0.0.1:7777"


def test_a_token_is_never_sent_to_an_address_a_file_names(tmp_path):
    """A red-team agent planted sub/loom.toml and sub/.loom/runtime.json (its own file, 0600): a
    client started in sub/ with only LOOM_TOKEN set sent the person's token to the agent's port."""
    write_discovery(tmp_path / "sub", address="127.0.0.1:18999", token="attacker")
    with pytest.raises(RuntimeNotFound, match="as LOOM_TOKEN but no address.*LOOM_BRIDGE_ADDR") as info:
        resolve_endpoint(env={"LOOM_TOKEN": "the-persons-token"}, cwd=tmp_path / "sub")
    assert "the-persons-token" not in str(info.value)
    with pytest.raises(RuntimeNotFound, match="as argument but no address"):
        resolve_endpoint(token="the-persons-token", env={}, cwd=tmp_path / "sub")
    # Without a token of its own, the client takes the file's address and token together.
    ep = resolve_endpoint(env={}, cwd=tmp_path / "sub")
    assert (ep.address, ep.token) == ("127.0.0.1:18999", "attacker")


def test_bridge_client_falls_back_to_the_default_address_only_without_a_token(tmp_path, monkeypatch):
    """BridgeClient's reference default (127.0.0.1:50051) when nothing names a runtime: with a token it
    sent the token there, or, after a planted discovery file was refused, to a port an agent may hold."""
    from loom.bridge.client import DEFAULT_ADDR, _resolve

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOOM_BRIDGE_ADDR", raising=False)
    monkeypatch.delenv("LOOM_TOKEN", raising=False)
    assert _resolve(None, None) == (DEFAULT_ADDR, None)
    with pytest.raises(RuntimeNotFound):
        _resolve(None, "the-persons-token")
    monkeypatch.setenv("LOOM_TOKEN", "the-persons-token")
    with pytest.raises(RuntimeNotFound):
        _resolve(None, None)
    write_discovery(tmp_path / "sub", address="127.0.0.1:18999", token="attacker")
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(RuntimeNotFound, match="no address"):
        _resolve(None, None)
