"""The `loom` command: init, up, down, run, dev, chat, proto (`loom COMMAND --help` for each)."""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from ..discovery import find_workspace
from ..runtime import embedded
from .scaffold import AGENT_PY as TEMPLATE_AGENT  # noqa: F401 - the reference's name for what `loom init` writes
from .scaffold import LOOM_TOML as TEMPLATE_CONFIG  # noqa: F401 - likewise

ENTRY_POINTS = ("main.py", "run.py", "app.py")


def _workspace(arg: str | None) -> Path:
    """--workspace, else the workspace the current folder lies in, else the current folder."""
    if arg:
        path = Path(arg).resolve()
        if not path.is_dir():
            raise SystemExit(f"loom: {path} is not a folder")
        return path
    return find_workspace(Path.cwd()) or Path.cwd().resolve()


def _fail(message: str, code: int = 1) -> int:
    print(f"loom: {message}", file=sys.stderr)
    return code


def _download_note(args: argparse.Namespace) -> None:
    if getattr(args, "force_download", False) or getattr(args, "use_debug", False) or \
            getattr(args, "version", "latest") not in ("latest", None):
        print("[loom] --version/--use-debug/--force-download choose the reference's downloaded binary; "
              "this SDK runs the Loom runtime it finds (dist/runtime.js) and downloads nothing")


def cmd_init(args: argparse.Namespace) -> int:
    from .scaffold import ScaffoldError, scaffold

    try:
        written = scaffold(Path(args.path), agent_id=args.agent, force=args.force)
    except ScaffoldError as e:
        return _fail(str(e))
    target = Path(args.path).resolve()
    print(f"[loom] initialized a Loom workspace at {target}")
    for path in written:
        print(f"[loom]   wrote {path.relative_to(target)}")
    print(f"[loom] next: `loom up` there (or open the folder in VS Code), then "
          f"`loom chat --remote --topic {args.agent}.hello`")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from .background import up

    _download_note(args)
    ws = _workspace(args.workspace)
    if args.foreground:
        return _foreground(ws, args, print_events=None)
    try:
        return up(ws, port=args.bridge_port, dashboard=args.mode != "bridge-only",
                  dashboard_port=args.dashboard_port, compat=args.compat, log_level=args.log_level,
                  timeout=args.timeout)
    except embedded.RuntimeNotInstalled as e:
        return _fail(str(e))


def cmd_down(args: argparse.Namespace) -> int:
    from .background import down

    return down(_workspace(args.workspace), grace=args.grace)


def _foreground(ws: Path, args: argparse.Namespace, print_events: str | None) -> int:
    """Runs the runtime attached to this terminal until Ctrl+C; its exit code."""
    if embedded.running_runtime(ws):
        return _fail(f"a runtime is already running for {ws} (`loom down` stops it)")
    try:
        argv = embedded.runtime_command(
            ws, port=args.bridge_port, compat=args.compat, log_level=args.log_level,
            print_events=print_events, dashboard=args.mode != "bridge-only", dashboard_port=args.dashboard_port)
    except embedded.RuntimeNotInstalled as e:
        return _fail(str(e))
    proc = subprocess.Popen(argv, cwd=ws, env=embedded.runtime_env(), stdin=subprocess.DEVNULL)
    try:
        try:
            info = embedded.wait_ready(ws, proc, 60.0)
            print(f"[loom] runtime ready: LOOM_BRIDGE_ADDR={info['address']} (token in the workspace's "
                  f".loom/runtime.json); Ctrl+C stops it", flush=True)
        except RuntimeError as e:
            print(f"[loom] {e}", file=sys.stderr)
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def cmd_dev(args: argparse.Namespace) -> int:
    if args.build:
        try:
            root = embedded.find_runtime_js().parent.parent
        except embedded.RuntimeNotInstalled as e:
            return _fail(str(e))
        if not (root / "esbuild.mjs").is_file():
            return _fail(f"--build: {root} is not a checkout of Loom for VS Code")
        print(f"[loom] building the runtime in {root}")
        built = subprocess.run([embedded.find_node(), "esbuild.mjs", "--only=runtime"], cwd=root)
        if built.returncode != 0:
            return _fail("the runtime build failed", built.returncode)
    args.dashboard_port = args.dashboard if args.dashboard not in (None, 0) else None
    args.mode = "bridge-only" if args.dashboard is None else "full"
    return _foreground(_workspace(args.workspace), args, print_events=args.events)


def _discover_agents(project: Path) -> list[Path]:
    scripts = sorted(p for p in (project / "agents").glob("*.py") if not p.name.startswith("_")) \
        if (project / "agents").is_dir() else []
    if scripts:
        print(f"[loom] found {len(scripts)} agent script(s) in agents/")
    for name in ENTRY_POINTS:
        if (project / name).is_file():
            scripts.append(project / name)
            print(f"[loom] found the entry point {name}")
            break
    return scripts


def cmd_run(args: argparse.Namespace) -> int:
    from ..runtime.orchestrator import OrchestratorConfig, run_orchestrator

    _download_note(args)
    target = Path(args.script) if args.script else Path.cwd()
    if target.is_file():
        print(f"[loom] running {target}")
        os.execv(sys.executable, [sys.executable, str(target)])
    if not target.is_dir():
        return _fail(f"no such project folder or script: {target}")
    project = target.resolve()
    scripts = _discover_agents(project)
    if not scripts:
        print("[loom] no agent scripts (agents/*.py, main.py, run.py or app.py); running the runtime "
              "and loom.toml's agents only")
    config = OrchestratorConfig(
        project_dir=project, logs_dir=project / "logs" if args.logs else None, runtime_mode=args.mode,
        runtime_version=args.version, bridge_port=args.bridge_port, dashboard_port=args.dashboard_port,
        startup_wait_sec=args.startup_wait, agent_scripts=scripts, prefer_release=not args.use_debug,
        force_download=args.force_download, compat=args.compat, log_level=args.log_level,
    )
    try:
        return asyncio.run(run_orchestrator(config))
    except (embedded.RuntimeNotInstalled, RuntimeError) as e:
        return _fail(str(e))


def cmd_chat(args: argparse.Namespace) -> int:
    from .chat import run_chat_cli

    project = _workspace(args.workspace)
    os.chdir(project)  # the SDK finds the runtime's discovery file from here
    try:
        return asyncio.run(run_chat_cli(
            bridge_addr=args.address, agent_id=args.agent_id, remote=args.remote, topic=args.topic,
            llm_provider=args.llm, streaming=not args.no_stream, timeout=args.timeout, project_dir=project))
    except KeyboardInterrupt:
        print("\nbye")
        return 0


def cmd_proto(args: argparse.Namespace) -> int:
    from .proto import ProtoError, find_proto_dir, generate, stale, write

    out = Path(args.out)
    try:
        proto_dir = find_proto_dir(Path(args.proto_dir) if args.proto_dir else None)
        stubs = generate(proto_dir)
    except ProtoError as e:
        return _fail(str(e))
    if args.check:
        drift = stale(stubs, out)
        if drift:
            return _fail(f"the stubs in {out} differ from {proto_dir}: {', '.join(drift)}")
        print(f"[loom] the stubs in {out} match {proto_dir}")
        return 0
    write(stubs, out)
    print(f"[loom] wrote {len(stubs)} stub files for {proto_dir} into {out}")
    return 0


def _workspace_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", "-w", default=None, help="the workspace (default: the one the current folder is in)")


def _runtime_options(p: argparse.ArgumentParser, *, reference: bool = True) -> None:
    if reference:
        p.add_argument("--mode", choices=["full", "bridge-only"], default="full",
                       help="full: with the dashboard (default); bridge-only: without")
        p.add_argument("--dashboard-port", type=int, default=None,
                       help="dashboard port (default: loom.toml's [dashboard] port, else any free one)")
        p.add_argument("--version", default="latest", help="the reference's runtime version (no effect here)")
        p.add_argument("--use-debug", action="store_true", help="the reference's debug build choice (no effect here)")
        p.add_argument(
            "--force-download", action="store_true", help="the reference's download (no effect: nothing is downloaded)"
        )
    p.add_argument("--bridge-port", "--port", type=int, default=None, dest="bridge_port",
                   help="bridge port on 127.0.0.1 (default: loom.toml's, else any free one)")
    p.add_argument("--compat", choices=["reference"], default=None,
                   help="serve agents written for the reference SDK as they are (port 50051, no token)")
    p.add_argument("--log-level", choices=["debug", "info", "warn", "error"], default=None,
                   help="the runtime's log level (default: loom.toml's)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="loom", description="Loom: the runtime of a workspace and its Python agents.")
    from .. import __version__

    p.add_argument("-V", "--sdk-version", action="version", version=f"loom SDK {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    for name, help_text in (("init", "create a Loom workspace in PATH (loom.toml, agents/ with an example)"),
                            ("new", "same as init"), ("create", "same as init")):
        si = sub.add_parser(name, help=help_text, description=help_text)
        si.add_argument("path", nargs="?", default=".", help="the folder (default: the current one)")
        si.add_argument("--agent", default="hello", help="id of the example agent (default: hello)")
        si.add_argument("--force", action="store_true", help="replace an existing loom.toml")
        si.set_defaults(func=cmd_init)

    su = sub.add_parser("up", help="start the workspace's runtime in the background",
                        description="Start the runtime for a workspace in the background (or reuse the one running); "
                                    "its output goes to <data_dir>/runtime.log.")
    _workspace_option(su)
    _runtime_options(su)
    su.add_argument(
        "--foreground", action="store_true", help="stay attached to the terminal until Ctrl+C (the reference's way)"
    )
    su.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the runtime to be ready (default 60)"
    )
    su.set_defaults(func=cmd_up)

    sd = sub.add_parser("down", help="stop the workspace's runtime and what it started",
                        description="Stop the runtime serving a workspace (SIGTERM, SIGKILL after --grace) "
                                    "and whatever it started that is still alive.")
    _workspace_option(sd)
    sd.add_argument("--grace", type=float, default=15.0, help="seconds before SIGKILL (default 15)")
    sd.set_defaults(func=cmd_down)

    sr = sub.add_parser("run", help="run a project: the runtime plus its agent scripts (or one script)",
                        description="With a script: run it. With a folder (default: the current one): start the "
                                    "runtime (or use the running one) and every agents/*.py plus main.py, run.py or "
                                    "app.py not declared in loom.toml; Ctrl+C stops them all.")
    sr.add_argument(
        "script", nargs="?", default=None, help="a project folder or a script (default: the current folder)"
    )
    _runtime_options(sr)
    sr.add_argument("--startup-wait", type=float, default=2.0,
                    help="least seconds between the runtime's start and the agents' (readiness is awaited anyway)")
    sr.add_argument(
        "--logs", action="store_true", help="agents' output into <project>/logs/ (default: <data_dir>/logs/)"
    )
    sr.set_defaults(func=cmd_run)

    sv = sub.add_parser("dev", help="run the runtime in the foreground, printing every event",
                        description="The runtime in this terminal for development: every event printed, "
                                    "optionally the dashboard; Ctrl+C stops it.")
    _workspace_option(sv)
    _runtime_options(sv, reference=False)
    sv.add_argument("--events", default="", metavar="PATTERN", help="print only topics matching PATTERN (default: all)")
    sv.add_argument("--dashboard", nargs="?", type=int, const=0, default=None, metavar="PORT",
                    help="serve the dashboard (on PORT; default any free port)")
    sv.add_argument("--build", action="store_true", help="rebuild dist/runtime.js first (in a checkout)")
    sv.set_defaults(func=cmd_dev)

    sc = sub.add_parser("chat", help="chat with an agent from the terminal",
                        description="Chat in the terminal: by default this command is the chat agent (a cognitive "
                                    "loop on the model loom.toml configures); with --remote it talks to a chat "
                                    "agent that runs elsewhere.")
    sc.add_argument(
        "--address", "-a", default=None, help="bridge address (default: LOOM_BRIDGE_ADDR, else the workspace's runtime)"
    )
    sc.add_argument("--agent-id", "-i", default="chat-assistant", help="id to chat as (default: chat-assistant)")
    _workspace_option(sc)
    sc.add_argument(
        "--llm", default=None, help="[llm.<name>] or preset to think with (default: [agents.<id>] llm_provider)"
    )
    sc.add_argument("--remote", action="store_true", help="send each message to a running chat agent instead")
    sc.add_argument(
        "--topic", default="chat.input", help="with --remote: the topic the agent answers on (default chat.input)"
    )
    sc.add_argument(
        "--timeout", type=float, default=120.0, help="with --remote: seconds to wait for each reply (default 120)"
    )
    sc.add_argument("--no-stream", action="store_true", help="wait for whole answers instead of streaming")
    sc.set_defaults(func=cmd_chat)

    sp = sub.add_parser("proto", help="generate Python gRPC stubs of the runtime's protocol",
                        description="Generate Python gRPC stubs (loom.v1) from the runtime's .proto files "
                                    "(needs grpcio-tools).")
    sp.add_argument("--out", default="proto/generated", help="output folder (default: proto/generated)")
    sp.add_argument(
        "--proto-dir", default=None, help="folder holding loom/v1/*.proto (default: beside the runtime found)"
    )
    sp.add_argument("--check", action="store_true", help="only compare with --out; exit 1 when they differ")
    sp.set_defaults(func=cmd_proto)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    if argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
