"""The distribution: `python -m build` makes a wheel and an sdist; the wheel alone installs into a
fresh virtual environment, with the `loom` command; `loom proto` regenerates the protocol's stubs."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[2]
NAME = "loom_vscode_sdk"


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 600)
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> Path:
    pytest.importorskip("build", reason="`build` comes with the SDK's [dev] extra (.ci/setup.sh)")
    out = tmp_path_factory.mktemp("dist")
    # Without isolation: the venv's setuptools (.ci/setup.sh makes sure it is new enough), no
    # download of the build backend at every run.
    # No --sdist/--wheel: the sdist first, then the wheel from it (not from the source tree, which
    # would leave a build/ folder there and pack whatever stale files it holds).
    done = run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, SDK)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_build_makes_a_wheel_and_an_sdist(dists):
    [wheel] = dists.glob(f"{NAME}-*-py3-none-any.whl")
    [sdist] = dists.glob(f"{NAME}-*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("loom/__init__.py", "loom/cli/main.py", "loom/runtime/orchestrator.py",
                   "loom/telemetry/__init__.py", "loom/_proto/loom_pb2.pyi", "loom/py.typed"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("tests/")]
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Name: loom-vscode-sdk" in meta
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "loom = loom.cli.main:main" in entry
    with tarfile.open(sdist) as tar:
        assert any(n.endswith("/pyproject.toml") for n in tar.getnames())


def test_the_wheel_alone_installs_into_a_fresh_venv(dists, tmp_path):
    [wheel] = dists.glob(f"{NAME}-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / "python"
    done = run(py, "-m", "pip", "install", "--disable-pip-version-check", "-q", wheel)
    assert done.returncode == 0, done.stderr[-3000:]

    # Run from a folder outside this checkout, with a HOME without VS Code: nothing but the wheel.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {"PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", "HOME": str(tmp_path), "NO_COLOR": "1"}
    check = run(py, "-c", "import loom, loom.runtime, loom.cli, loom.telemetry; "
                          "from loom import Agent; from loom.runtime import Orchestrator, load_project_config; "
                          f"assert loom.__file__.startswith({str(env_dir)!r}); print(loom.__version__)",
                cwd=outside, env=env)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip()
    helped = run(bindir / "loom", "--help", cwd=outside, env=env)
    assert helped.returncode == 0 and "init" in helped.stdout and "chat" in helped.stdout, helped.stderr

    # No runtime to be found from there: a clear error, and nothing downloaded.
    up = run(bindir / "loom", "up", cwd=outside, env=env)
    assert up.returncode == 1
    assert "LOOM_RUNTIME_JS" in up.stderr and "never downloads" in up.stderr
    # Pointed at this checkout's runtime, it would run: the locator takes LOOM_RUNTIME_JS.
    bundle = SDK.parents[1] / "dist" / "runtime.js"
    if bundle.is_file():
        found = run(py, "-c", "from loom.runtime import find_runtime_js; print(find_runtime_js())",
                    cwd=outside, env={**env, "LOOM_RUNTIME_JS": str(bundle)})
        assert found.stdout.strip() == str(bundle.resolve()), found.stderr


def test_proto_generates_importable_stubs(tmp_path):
    pytest.importorskip("grpc_tools")
    out = tmp_path / "gen" / "loomv1"
    made = run(sys.executable, "-m", "loom.cli", "proto", "--out", out, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert {"loom_pb2.py", "loom_pb2_grpc.py", "runtime_pb2.py", "memory_pb2.py"} <= {p.name for p in out.iterdir()}
    checked = run(sys.executable, "-m", "loom.cli", "proto", "--out", out, "--check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    # The stubs import as a package of their own (relative imports), beside the SDK's `loom`.
    imported = run(sys.executable, "-c", "import loomv1.loom_pb2_grpc as g; print(g.__name__)", cwd=out.parent)
    assert imported.returncode == 0, imported.stderr
    (out / "loom_pb2.py").write_text("# edited\n")
    drift = run(sys.executable, "-m", "loom.cli", "proto", "--out", out, "--check", cwd=tmp_path)
    assert drift.returncode == 1 and "loom_pb2.py" in drift.stderr
