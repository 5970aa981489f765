"""Every public name of the reference SDK's modules exists in the `loom` this interpreter imports.

Reads the reference's sources (never imports them): for each module under REF/loom, the names
defined at its top level (functions, classes, assignments; for a package, what its __init__
imports too), then imports the same module path from the installed `loom` and looks each up.
Generated protobuf modules are left out (ours alias them; tests/unit/test_envelope covers them).
Prints one line per missing name and, last, "N names, M missing"; exit status 1 when any is missing.
Usage: python public_names.py <reference loom-py>/src
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path


def public_names(source: Path, package: bool) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif package and isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(a.asname or a.name.split(".")[0] for a in node.names if a.name != "*")
    return {n for n in names if not n.startswith("_")}


def main(src: Path) -> int:
    root = src / "loom"
    checked, missing = 0, []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if package else parts)
        if ".generated" in module or module.endswith(".generate"):
            continue
        names = public_names(path, package)
        try:
            ours = importlib.import_module(module)
        except Exception as err:  # noqa: BLE001 - reported as missing, with why
            missing.append(f"{module}: cannot import ({type(err).__name__}: {err})")
            continue
        for name in sorted(names):
            checked += 1
            if not hasattr(ours, name):
                missing.append(f"{module}.{name}")
    for m in missing:
        print(f"missing: {m}")
    print(f"{checked} names, {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
