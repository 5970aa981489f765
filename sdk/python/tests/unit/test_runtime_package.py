"""loom.runtime (config, locating the runtime, its command line), loom.telemetry and the CLI parser:
no runtime needed."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loom.cli.main import build_parser
from loom.cli.scaffold import ScaffoldError, scaffold
from loom.runtime import (
    Orchestrator,
    OrchestratorConfig,
    ProjectConfig,
    RuntimeNotInstalled,
    embedded,
    find_runtime_js,
    load_project_config,
)
from loom.runtime.config import expand_vars, read_env_file


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_loom_own_format(tmp_path):
    write(tmp_path / "loom.toml", """
        [bridge]
        host = "localhost"
        port = 7001
        compat = "reference"

        [dashboard]
        enabled = false

        [agents.notes]
        command = "python"
        args = ["agents/notes.py"]

        [agents.helper]
        topics = ["help.in"]

        [mcp.files]
        command = "npx"
        args = ["-y", "server"]

        [mcp.web]
        url = "http://127.0.0.1:9000/mcp"

        [mcp.serve]
        http = true

        [llm.assistant]
        type = "deepseek"
        api_base = "https://api.example/v1"
        model = "m"
        timeout = 60
        """)
    cfg = load_project_config(tmp_path / "agents")  # found from a folder below
    assert cfg.path == tmp_path / "loom.toml" and cfg.workspace == tmp_path
    assert cfg.bridge.address == "127.0.0.1:7001" and cfg.bridge.port == 7001 and cfg.bridge.compat == "reference"
    assert cfg.dashboard.enabled is False
    assert set(cfg.supervised_agents()) == {"notes"}
    assert cfg.agent_settings("helper") == {"topics": ["help.in"]} and cfg.agent_settings("none") == {}
    assert set(cfg.mcp_servers) == {"files", "web"} and cfg.mcp_servers["web"].url.endswith("/mcp")
    assert cfg.llm_providers["assistant"].timeout_sec == 60
    assert cfg.raw["mcp"]["serve"] == {"http": True}


def test_env_expansion_and_env_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_T_SET", "yes")
    monkeypatch.delenv("LOOM_T_UNSET", raising=False)
    assert (
        expand_vars("${LOOM_T_SET}/$LOOM_T_SET/${LOOM_T_UNSET}/${LOOM_T_UNSET:-fb}/$$5")
        == "yes/yes/${LOOM_T_UNSET}/fb/$5"
    )
    assert expand_vars({"a": ["${LOOM_T_SET}"]}) == {"a": ["yes"]}

    monkeypatch.delenv("APP_T_FROM_FILE", raising=False)
    monkeypatch.setenv("APP_T_SET", "yes")
    write(tmp_path / ".env", """
        # comment
        export APP_T_FROM_FILE='from file'
        APP_T_SET=overridden?
        """)
    write(tmp_path / "loom.toml", """
        [llm.x]
        api_key = "${APP_T_FROM_FILE}"
        api_base = "${APP_T_SET}"
        model = "m"
        """)
    cfg = ProjectConfig.load(tmp_path / "loom.toml")
    assert cfg.llm_providers["x"].api_key == "from file"
    assert cfg.llm_providers["x"].api_base == "yes"  # the environment wins over .env
    env: dict = {}
    assert read_env_file(tmp_path / ".env", env) == {"APP_T_FROM_FILE": "from file", "APP_T_SET": "overridden?"}




def test_env_file_never_sets_how_programs_run(tmp_path, monkeypatch, capsys):
    """A .env holds API keys and settings: one an agent or another user wrote set NODE_OPTIONS,
    PYTHONPATH and grpc_proxy for the runtime and agents this process starts."""
    for name in ("NODE_OPTIONS", "PYTHONPATH", "grpc_proxy", "LD_PRELOAD", "LOOM_BRIDGE_ADDR", "OPENSSL_CONF",
                 "PATH_T_OK", "GOOGLE_T_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    write(tmp_path / ".env", """
        NODE_OPTIONS=--require=./evil.js
        PYTHONPATH=/tmp/evil
        grpc_proxy=http://127.0.0.1:1
        LD_PRELOAD=/tmp/evil.so
        LOOM_BRIDGE_ADDR=127.0.0.1:1
        OPENSSL_CONF=/tmp/evil.cnf
        BASH_FUNC_git%%=() { touch /tmp/pwned; }
        PATH_T_OK=kept
        GOOGLE_T_API_KEY=kept-too
        """)
    env: dict = {}
    assert read_env_file(tmp_path / ".env", env) == {"PATH_T_OK": "kept", "GOOGLE_T_API_KEY": "kept-too"}
    err = capsys.readouterr().err
    skipped = "BASH_FUNC_git%%, LD_PRELOAD, LOOM_BRIDGE_ADDR, NODE_OPTIONS, OPENSSL_CONF, PYTHONPATH, grpc_proxy"
    assert f"not setting {skipped}" in err, err


def test_env_file_only_beside_loom_toml_and_only_the_users_own(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("APP_T_PARENT", raising=False)
    monkeypatch.delenv("APP_T_LINK", raising=False)
    project = tmp_path / "outer" / "project"
    project.mkdir(parents=True)
    write(project / "loom.toml", "")
    # A folder above (another user's /tmp/.env, say) and the current folder are not read.
    write(tmp_path / ".env", "APP_T_PARENT=from-parent\n")
    monkeypatch.chdir(tmp_path)
    ProjectConfig.load(project / "loom.toml")
    assert "APP_T_PARENT" not in os.environ

    # A symbolic link, or a file others may write, is refused, naming why.
    write(tmp_path / "real.env", "APP_T_LINK=via-link\n")
    (project / ".env").symlink_to(tmp_path / "real.env")
    ProjectConfig.load(project / "loom.toml")
    assert "APP_T_LINK" not in os.environ
    assert "it is a symbolic link" in capsys.readouterr().err
    (project / ".env").unlink()
    write(project / ".env", "APP_T_LINK=own-group-writable\n")
    os.chmod(project / ".env", 0o646)
    ProjectConfig.load(project / "loom.toml")
    assert "APP_T_LINK" not in os.environ
    assert "others may change it" in capsys.readouterr().err
    # Writable by the user's own group (umask 002 where each user has a group of their own): taken.
    os.chmod(project / ".env", 0o664)
    ProjectConfig.load(project / "loom.toml")
    assert os.environ.pop("APP_T_LINK") == "own-group-writable"


def test_bad_toml_names_the_file(tmp_path):
    write(tmp_path / "loom.toml", "[bridge\n")
    with pytest.raises(RuntimeError, match="loom.toml"):
        ProjectConfig.load(tmp_path / "loom.toml")


def test_runtime_js_from_env_checkout_extension_or_a_clear_error(tmp_path, monkeypatch):
    bundle = write(tmp_path / "rt" / "runtime.js", "")
    assert find_runtime_js(env={"LOOM_RUNTIME_JS": str(bundle)}) == bundle.resolve()
    with pytest.raises(RuntimeNotInstalled, match="LOOM_RUNTIME_JS=.*missing.js"):
        find_runtime_js(env={"LOOM_RUNTIME_JS": str(tmp_path / "missing.js")})

    # This SDK lives in a checkout: its dist/runtime.js.
    repo = Path(__file__).resolve().parents[4]
    if (repo / "dist" / "runtime.js").is_file():
        assert find_runtime_js(env={"HOME": str(tmp_path)}) == repo / "dist" / "runtime.js"

    # Outside any checkout: the newest installed VS Code extension, else an error saying what to do.
    monkeypatch.setattr(embedded, "_checkout_root", lambda start: None)
    home = tmp_path / "home"
    with pytest.raises(RuntimeNotInstalled) as e:
        find_runtime_js(env={"HOME": str(home)})
    assert "LOOM_RUNTIME_JS" in str(e.value) and "never downloads" in str(e.value)
    for version in ("0.9.0", "0.10.1"):
        write(home / ".vscode" / "extensions" / f"loom-os.loom-vscode-{version}" / "dist" / "runtime.js", "")
    assert find_runtime_js(env={"HOME": str(home)}).parts[-3] == "loom-os.loom-vscode-0.10.1"


def test_unbuilt_checkout_says_to_build(tmp_path, monkeypatch):
    write(tmp_path / "co" / "package.json", json.dumps({"name": "loom-vscode"}))
    monkeypatch.setattr(embedded, "__file__", str(tmp_path / "co" / "sdk" / "python" / "loom" / "runtime" / "x.py"))
    with pytest.raises(RuntimeNotInstalled, match="npm run build"):
        find_runtime_js(env={"HOME": str(tmp_path)})


def test_a_runtime_planted_in_the_current_folder_is_never_run(tmp_path, monkeypatch):
    # What an agent can write with fs:write: a package.json named like Loom's and a dist/runtime.js.
    write(tmp_path / "ws" / "package.json", json.dumps({"name": "loom-vscode"}))
    write(tmp_path / "ws" / "dist" / "runtime.js", "require('fs').writeFileSync('HIJACKED', '')")
    monkeypatch.setattr(embedded, "__file__", str(tmp_path / "site-packages" / "loom" / "runtime" / "x.py"))
    monkeypatch.chdir(tmp_path / "ws")
    with pytest.raises(RuntimeNotInstalled) as e:
        find_runtime_js(env={"HOME": str(tmp_path / "home")})
    assert str(tmp_path / "ws" / "dist") not in str(e.value)
    monkeypatch.delenv("LOOM_RUNTIME_JS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(RuntimeNotInstalled):
        embedded.runtime_command(tmp_path / "ws")


def test_runtime_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("LOOM_RUNTIME_JS", str(write(tmp_path / "runtime.js", "")))
    monkeypatch.setenv("LOOM_NODE", sys.executable)  # any existing program
    args = embedded.runtime_command(tmp_path, port=0, dashboard=True, dashboard_port=3030, compat="reference",
                                    log_level="debug", print_events="fs.>")
    assert args[:2] == [sys.executable, str(tmp_path / "runtime.js")]
    assert args[args.index("--workspace") + 1] == str(tmp_path)
    assert args[args.index("--port") + 1] == "0" and args[args.index("--compat") + 1] == "reference"
    assert args[args.index("--print-events") + 1] == "fs.>"
    assert json.loads(args[args.index("--overrides") + 1]) == {"dashboard": {"enabled": True, "port": 3030}}
    off = embedded.runtime_command(tmp_path, dashboard=False)
    assert json.loads(off[off.index("--overrides") + 1]) == {"dashboard": {"enabled": False}}
    assert "--overrides" not in embedded.runtime_command(tmp_path)
    with pytest.raises(ValueError, match="loopback"):
        embedded.start_bridge("10.0.0.1:50051")
    monkeypatch.setenv("LOOM_NODE", str(tmp_path / "no-node"))
    with pytest.raises(RuntimeNotInstalled, match="LOOM_NODE"):
        embedded.find_node()


def test_orchestrator_skips_scripts_the_runtime_starts(tmp_path):
    write(tmp_path / "loom.toml", """
        [agents.a]
        command = "python"
        args = ["agents/a.py"]
        """)
    orch = Orchestrator(OrchestratorConfig(project_dir=tmp_path, agent_scripts=[]))
    assert orch._supervised(Path("agents/a.py")) == "a"
    assert orch._supervised(tmp_path / "agents" / "b.py") is None
    assert OrchestratorConfig().project_dir == Path.cwd()


def test_scaffold(tmp_path):
    written = scaffold(tmp_path / "w", agent_id="greeter")
    assert [p.name for p in written] == ["loom.toml", "greeter.py", ".gitignore"]
    cfg = load_project_config(tmp_path / "w")
    assert cfg.supervised_agents()["greeter"]["args"] == ["agents/greeter.py"]
    compile((tmp_path / "w" / "agents" / "greeter.py").read_text(), "greeter.py", "exec")
    with pytest.raises(ScaffoldError, match="exists already"):
        scaffold(tmp_path / "w")
    with pytest.raises(ScaffoldError, match="agent id"):
        scaffold(tmp_path / "v", agent_id="bad id")


@pytest.mark.parametrize("command", ["init", "new", "create", "up", "down", "run", "dev", "chat", "proto"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args([command, "--help"])
    assert e.value.code == 0
    assert "usage: loom " + command in capsys.readouterr().out


def test_telemetry_exports_the_sdks_spans():
    """In a process of its own: OpenTelemetry's global tracer provider can be set once."""
    pytest.importorskip("opentelemetry.sdk")
    code = textwrap.dedent("""
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from loom import tracing
        from loom.telemetry import init_telemetry, shutdown_telemetry
        spans = InMemorySpanExporter()
        assert init_telemetry("svc-test", exporter=spans) is True
        assert init_telemetry() is True  # once only
        with tracing.span("loom.handle", topic="a.b"):
            pass
        shutdown_telemetry()
        shutdown_telemetry()
        [s] = spans.get_finished_spans()
        assert s.name == "loom.handle" and s.resource.attributes["service.name"] == "svc-test", s
        print("ok")
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_telemetry_without_opentelemetry_is_a_warning():
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.startswith("opentelemetry"):
                    raise ImportError(name)
        sys.meta_path.insert(0, Block())
        from loom.telemetry import init_telemetry, shutdown_telemetry
        assert init_telemetry() is False
        shutdown_telemetry()
        print("ok")
        """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert "opentelemetry-sdk is not installed" in done.stderr


def test_logs_are_private(tmp_path):
    # A runtime's output may hold its dashboard URL with the token; an agent's, a key it echoes.
    old = os.umask(0o022)
    try:
        log = tmp_path / "logs" / "runtime.log"
        with embedded.open_private_log(log, append=True) as f:
            f.write(b"a\n")
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
        made_before = tmp_path / "logs" / "agent.log"
        made_before.write_bytes(b"old")
        made_before.chmod(0o644)
        with embedded.open_private_log(made_before) as f:
            f.write(b"new")
        assert stat.S_IMODE(made_before.stat().st_mode) == 0o600 and made_before.read_bytes() == b"new"
    finally:
        os.umask(old)


def test_node_is_never_taken_from_the_current_folder(tmp_path, monkeypatch):
    # A workspace can plant ./node (or node.cmd on Windows); a PATH entry "." or "" names the cwd.
    planted = write(tmp_path / "ws" / "node", "#!/bin/sh\necho planted\n")
    planted.chmod(0o755)
    real = write(tmp_path / "bin" / "node", "#!/bin/sh\n")
    real.chmod(0o755)
    monkeypatch.chdir(tmp_path / "ws")
    env = {"PATH": os.pathsep.join([".", "", str(tmp_path / "bin")])}
    assert embedded.find_node(env) == str(tmp_path / "bin" / "node")
    with pytest.raises(RuntimeNotInstalled, match="not on the PATH"):
        embedded.find_node({"PATH": os.pathsep.join([".", ""])})
