import json

import pytest

from loom import Envelope, Event
from loom._proto import loom_pb2
from loom.event import encode_payload


def test_envelope_is_written_with_the_loom_prefix():
    ev = Event.new("greet", payload={"a": 1}, thread_id="t1", correlation_id="c1", sender="s",
                   reply_to="agent.s.replies", ttl_ms=500, hop=2)
    assert ev.metadata == {
        "loom.thread_id": "t1",
        "loom.correlation_id": "c1",
        "loom.sender": "s",
        "loom.reply_to": "agent.s.replies",
        "loom.ttl_ms": "500",
        "loom.hop": "2",
    }


def test_envelope_is_read_prefixed_and_bare():
    bare = loom_pb2.Event(id="1", type="x", metadata={
        "thread_id": "t", "correlation_id": "c", "reply_to": "r", "sender": "s", "ttl": "9", "hop": "3",
    })
    ev = Event.from_proto(bare, topic="a.b")
    assert (ev.thread_id, ev.correlation_id, ev.reply_to, ev.sender, ev.ttl_ms, ev.hop, ev.topic) == (
        "t", "c", "r", "s", 9, 3, "a.b")
    prefixed = loom_pb2.Event(id="1", type="x", metadata={"loom.thread_id": "T", "thread_id": "bare"})
    assert Event.from_proto(prefixed).thread_id == "T"


def test_setting_an_envelope_field_writes_the_prefixed_key():
    ev = Event.new("x")
    ev.correlation_id = "abc"
    assert ev.metadata["loom.correlation_id"] == "abc"
    ev.correlation_id = None
    assert "loom.correlation_id" not in ev.metadata and ev.correlation_id is None


def test_payload_encoding():
    assert encode_payload(b"\x00\x01") == b"\x00\x01"
    assert encode_payload("héllo") == "héllo".encode()
    assert encode_payload(None) == b""
    assert json.loads(encode_payload({"k": [1, 2]})) == {"k": [1, 2]}
    with pytest.raises(TypeError, match="JSON-serialisable"):
        encode_payload(object())


def test_payload_accessors():
    ev = Event.new("x", payload={"n": 1})
    assert ev.json() == {"n": 1} and ev.data == {"n": 1} and ev.text == '{"n":1}'
    plain = Event.new("x", payload="not json")
    assert plain.data == "not json"
    with pytest.raises(ValueError, match="not JSON"):
        plain.json()
    assert Event.new("x").json() is None


def test_round_trip_through_the_wire_message():
    ev = Event.new(
        "x", payload=b"raw", thread_id="t", metadata={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}
    )
    back = Event.from_proto(loom_pb2.Event.FromString(ev.to_proto().SerializeToString()))
    assert (back.id, back.type, back.payload, back.thread_id) == (ev.id, "x", b"raw", "t")
    assert back.traceparent == ev.metadata["traceparent"]


def test_reference_name_is_kept():
    assert Envelope is Event
