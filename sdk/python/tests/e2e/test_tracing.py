"""One trace from a Python span, through the runtime, a handler in another agent and a tool in a third."""
import pytest
from conftest import Inbox, unique

# The SDK comes with the [dev] extra: without it this fails to import, loudly, instead of skipping.
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from loom import tool

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="module")
def exporter():
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_exporter))
    trace.set_tracer_provider(provider)
    return _exporter


async def test_trace_continues_through_events_and_tools(agents, exporter):
    prefix, first, second = unique("tr"), unique("e2e.trace."), unique("e2e.trace.")

    @tool(f"{prefix}:echo", description="echo")
    def echo(text: str) -> str:
        return text

    async def middle(ctx, topic, event):
        out = await ctx.tool(f"{prefix}:echo", {"text": event.text})
        await ctx.emit(second, type="after-tool", payload=out)

    await agents(tools=[echo])
    await agents(topics=[first], on_event=middle)
    inbox = Inbox()
    await agents(topics=[second], on_event=inbox)
    origin = await agents()

    with trace.get_tracer("test").start_as_current_span("origin") as root:
        await origin.ctx.emit(first, type="start", payload="hi")
    trace_id = format(root.get_span_context().trace_id, "032x")

    (final,) = await inbox.wait_count(1)
    assert final.text == "hi"
    # The event that left the handler carries the same trace.
    assert final.traceparent and final.traceparent.split("-")[1] == trace_id

    spans = [s for s in exporter.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]
    names = [s.name for s in spans]
    for expected in ("loom.handle", "loom.tool.call", "loom.tool.serve"):
        assert expected in names, names
    serve = next(s for s in spans if s.name == "loom.tool.serve")
    call = next(s for s in spans if s.name == "loom.tool.call")
    handle = next(s for s in spans if s.name == "loom.handle" and s.attributes.get("topic") == first)
    # Parentage: handle <- tool.call; the serving span continues the trace of the call.
    assert call.parent.span_id == handle.context.span_id
    assert serve.parent is not None and serve.parent.trace_id == call.context.trace_id
