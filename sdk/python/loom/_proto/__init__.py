"""Generated loom.v1 stubs (scripts/gen_protos.py); checked in, verified by tests/test_proto_drift.py."""
