#!/usr/bin/env python3
"""Regenerates the checked-in gRPC stubs in loom/_proto/ from the repository's proto/ folder.

    python sdk/python/scripts/gen_protos.py            # rewrite loom/_proto/
    python sdk/python/scripts/gen_protos.py --check    # exit 1 when the stubs drift from proto/

protoc writes `from loom.v1 import loom_pb2`, which would resolve against this very package
(`loom`), so the imports are rewritten to relative ones and the stubs live flat in loom._proto.

Besides the repository's protos (shared with the runtime) the SDK has one of its own,
sdk/python/proto/loom/v1/compat.proto: the reference SDK's messages that Loom's protos lack, for
loom.bridge.proto.{action,agent,plugin,event}_pb2 (Python only; see the file's header).
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

SDK_ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = SDK_ROOT.parent.parent / "proto"
OUT_DIR = SDK_ROOT / "loom" / "_proto"
PROTO_FILES = ("loom/v1/loom.proto", "loom/v1/runtime.proto", "loom/v1/memory.proto")
#: The SDK's own protos (importing the repository's), generated alongside.
SDK_PROTO_ROOT = SDK_ROOT / "proto"
SDK_PROTO_FILES = ("loom/v1/compat.proto",)

_IMPORT = re.compile(r"^from loom\.v1 import (\w+)", re.MULTILINE)


def generate(proto_root: Path = PROTO_ROOT, sdk_proto_root: Path = SDK_PROTO_ROOT) -> dict[str, str]:
    """Runs protoc (grpcio-tools) and returns {file name: text} for the flat, rewritten stubs."""
    import grpc_tools
    from grpc_tools import protoc  # dev dependency only

    include = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "protoc",
            f"-I{proto_root}",
            f"-I{sdk_proto_root}",
            f"-I{include}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *(str(proto_root / f) for f in PROTO_FILES),
            *(str(sdk_proto_root / f) for f in SDK_PROTO_FILES),
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(
                f"protoc failed for {PROTO_FILES} under {proto_root} and {SDK_PROTO_FILES} under {sdk_proto_root}"
            )
        out: dict[str, str] = {}
        for path in sorted((Path(tmp) / "loom" / "v1").iterdir()):
            if path.suffix in (".py", ".pyi"):
                out[path.name] = _IMPORT.sub(r"from . import \1", path.read_text())
        return out


def drift(generated: dict[str, str], out_dir: Path = OUT_DIR) -> list[str]:
    """Names of stub files whose checked-in text differs from (or is missing next to) `generated`."""
    problems = []
    for name, text in generated.items():
        current = out_dir / name
        if not current.exists() or current.read_text() != text:
            problems.append(name)
    # A stub whose .proto is gone is drift too.
    problems += sorted(p.name for p in out_dir.glob("*_pb2*.py*") if p.name not in generated)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    opts = parser.parse_args()
    generated = generate()
    if opts.check:
        stale = drift(generated)
        if stale:
            print(f"stubs out of date with {PROTO_ROOT}: {', '.join(stale)}; run {__file__}", file=sys.stderr)
            return 1
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in generated.items():
        (OUT_DIR / name).write_text(text)
    print(f"wrote {len(generated)} files to {OUT_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
