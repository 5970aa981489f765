"""The harness never runs a stale runtime bundle: a failed build stops the tests with its output."""
import os

import pytest
from runtime_process import ensure_built


def test_failed_build_raises_instead_of_running_the_old_bundle(tmp_path):
    repo = tmp_path / "repo"
    (repo / "dist").mkdir(parents=True)
    (repo / "runtime").mkdir()
    stale = repo / "dist" / "runtime.js"
    stale.write_text("// built from an older tree\n")
    os.utime(stale, (1_000_000, 1_000_000))
    (repo / "runtime" / "cli.ts").write_text("export {};\n")  # newer than the bundle
    (repo / "esbuild.mjs").write_text("console.error('cli.ts: syntax error (from the test)'); process.exit(1);\n")
    with pytest.raises(RuntimeError, match=r"(?s)exit 1.*not running an older.*syntax error \(from the test\)"):
        ensure_built(repo)


def test_fresh_bundle_is_used_without_building(tmp_path):
    repo = tmp_path / "repo"
    (repo / "runtime").mkdir(parents=True)
    (repo / "runtime" / "cli.ts").write_text("export {};\n")
    os.utime(repo / "runtime" / "cli.ts", (1_000_000, 1_000_000))  # older than the bundle
    (repo / "dist").mkdir()
    bundle = repo / "dist" / "runtime.js"
    bundle.write_text("// up to date\n")
    # A build would fail, so returning the bundle shows none ran.
    (repo / "esbuild.mjs").write_text("process.exit(1);\n")
    assert ensure_built(repo) == bundle
