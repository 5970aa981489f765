"""The checked-in stubs in loom/_proto must be exactly what scripts/gen_protos.py makes from proto/."""
import importlib.util
import shutil
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_protos.py"


@pytest.fixture(scope="module")
def gen():
    pytest.importorskip("grpc_tools", reason="grpcio-tools is a dev dependency")
    spec = importlib.util.spec_from_file_location("gen_protos", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_stubs_match_proto(gen):
    stale = gen.drift(gen.generate())
    assert stale == [], f"stubs out of date: {stale}; run python {SCRIPT}"


def test_drift_is_detected_when_a_proto_changes(gen, tmp_path):
    # Guards the guard: a new field in a copy of proto/ must show up as drift of loom_pb2.
    shutil.copytree(gen.PROTO_ROOT, tmp_path / "proto")
    loom_proto = tmp_path / "proto" / "loom" / "v1" / "loom.proto"
    text = loom_proto.read_text().replace(
        "  int32 priority = 9;\n", "  int32 priority = 9;\n  string drift_probe = 99;\n"
    )
    assert "drift_probe" in text
    loom_proto.write_text(text)
    stale = gen.drift(gen.generate(tmp_path / "proto"))
    assert "loom_pb2.py" in stale and "loom_pb2.pyi" in stale
    assert "runtime_pb2.py" not in stale


def test_stub_imports_stay_inside_the_package(gen):
    for name, text in gen.generate().items():
        assert "from loom.v1" not in text, name
