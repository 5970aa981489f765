#!/usr/bin/env python3
"""Bridge benchmark: Python agents through the real runtime, beside a raw gRPC baseline.

    .venv/bin/python test/bench/bridge.bench.py [--events 20000] [--roundtrips 1000] [--calls 1000]

Measured in one run, with the same Python grpcio asyncio client library on both sides:
  baseline -- test/bench/bridge.bench.echo.mjs, a grpc-js loom.v1.Bridge with no Loom logic:
              one bidirectional stream echoing each Publish as a Delivery, and a unary call.
  loom     -- `node dist/runtime.js`: publisher agent -> runtime bus -> subscriber agent
              (both agents in this process, as the echo client is), and ctx.tool("fs:read"),
              which travels on the agent's own stream (ClientEvent.call_tool); fs:read also as a
              unary ForwardToolCall through a bare generated stub (no SDK), the way a client
              without the SDK calls.
The unary and fs:read calls run in alternating rounds (--rounds), so all meet the same load
from whatever else runs on the machine; their figures pool every round.
Printed as figures and loom/baseline ratios. Not a test: nothing here passes or fails.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sdk" / "python" / "tests" / "e2e"))
from runtime_process import RuntimeProcess  # noqa: E402

from loom import Agent  # noqa: E402
from loom._proto import loom_pb2, loom_pb2_grpc  # noqa: E402

PAYLOAD = b"x" * 64
READ_FILE_BYTES = 1024
# Round trips and calls discarded first on both sides (JIT, connection set-up, caches).
WARMUP = 200


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(samples_s: list[float]) -> tuple[float, float]:
    ms = [s * 1000 for s in samples_s]
    return pct(ms, 50), pct(ms, 99)


def event(i: int) -> loom_pb2.Event:
    return loom_pb2.Event(id=str(i), type="bench", timestamp_ms=int(time.time() * 1000), payload=PAYLOAD)


# ---------- baseline: the raw grpc-js echo server ----------


class EchoServer:
    def __enter__(self) -> "EchoServer":
        self.proc = subprocess.Popen(
            ["node", str(REPO / "test" / "bench" / "bridge.bench.echo.mjs")],
            cwd=REPO, stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening "):
            self.proc.kill()
            raise RuntimeError(f"echo server did not start: {line!r}")
        self.address = line.split(" ", 1)[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def baseline_stream(address: str, n: int, roundtrips: int) -> dict:
    async with grpc.aio.insecure_channel(address) as channel:
        call = loom_pb2_grpc.BridgeStub(channel).EventStream()
        publish = lambda i: loom_pb2.ClientEvent(publish=loom_pb2.Publish(topic="bench.echo", event=event(i)))  # noqa: E731

        # Latency: one message in flight at a time.
        samples = []
        for i in range(WARMUP + roundtrips):
            t0 = time.perf_counter()
            await call.write(publish(i))
            await call.read()
            samples.append(time.perf_counter() - t0)
        samples = samples[WARMUP:]

        # Throughput: writer and reader pipelined on the one stream.
        async def writer() -> None:
            for i in range(n):
                await call.write(publish(i))

        start = time.perf_counter()
        w = asyncio.create_task(writer())
        for _ in range(n):
            await call.read()
        elapsed = time.perf_counter() - start
        await w
        await call.done_writing()
        return {"rate": n / elapsed, "latency": summary(samples)}


def fs_read_answer_bytes() -> int:
    """The size of the runtime's fs:read answer for bench.txt (JSON.stringify, no spaces)."""
    answer = {"path": "bench.txt", "encoding": "utf8", "content": "b" * READ_FILE_BYTES, "size": READ_FILE_BYTES,
              "bytes_read": READ_FILE_BYTES, "truncated": False}
    return len(json.dumps(answer, separators=(",", ":")))


class BaselineUnary:
    """The bare unary call: the same request, and an answer of the same size as the runtime's (the
    issue's "bare unary call of the same size")."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.aio.insecure_channel(address)
        self.stub = loom_pb2_grpc.BridgeStub(self.channel)
        self.args = json.dumps({"path": "bench.txt", "reply_bytes": fs_read_answer_bytes()})

    async def round(self, calls: int, samples: list[float]) -> None:
        for i in range(calls):
            t0 = time.perf_counter()
            await self.stub.ForwardToolCall(
                loom_pb2.ToolCall(id=str(i), name="fs:read", arguments=self.args, timeout_ms=30000)
            )
            samples.append(time.perf_counter() - t0)


# ---------- loom: the real runtime ----------


async def loom_stream(rt: RuntimeProcess, n: int, roundtrips: int, qos: str) -> dict:
    topic = f"bench.{qos}.{uuid.uuid4().hex[:6]}"
    received = 0
    last_arrival = 0.0
    done = asyncio.Event()
    arrived = asyncio.Event()
    target = 0

    async def on_event(ctx, _topic, ev):
        nonlocal received, last_arrival
        received += 1
        last_arrival = time.perf_counter()
        arrived.set()
        if received >= target:
            done.set()

    sub = Agent(f"bench-sub-{qos}", [topic], address=rt.address, token=rt.token, qos=qos, on_event=on_event)
    pub = Agent(f"bench-pub-{qos}", [], address=rt.address, token=rt.token)
    await sub.start()
    await pub.start()
    try:
        samples = []
        for i in range(WARMUP + roundtrips):
            arrived.clear()
            target = received + 1
            t0 = time.perf_counter()
            await pub.ctx.emit(topic, type="bench", payload=PAYLOAD)
            await arrived.wait()
            samples.append(time.perf_counter() - t0)
        samples = samples[WARMUP:]

        received, target = 0, n
        done.clear()
        start = time.perf_counter()
        for i in range(n):
            await pub.ctx.emit(topic, type="bench", payload=PAYLOAD)
        # Realtime may drop under pressure (by design): stop waiting once deliveries go quiet.
        while not done.is_set():
            before = received
            try:
                await asyncio.wait_for(done.wait(), 3.0)
            except asyncio.TimeoutError:
                if received == before:
                    break
        return {
            "rate": received / (last_arrival - start),
            "delivered": received,
            "latency": summary(samples),
            "stats": dict(sub.stats),
        }
    finally:
        await pub.stop()
        await sub.stop()


async def loom_tool_round(agent: Agent, calls: int, samples: list[float]) -> None:
    for _ in range(calls):
        t0 = time.perf_counter()
        await agent.ctx.tool("fs:read", {"path": "bench.txt"})
        samples.append(time.perf_counter() - t0)


class StubToolCall:
    """fs:read through a bare generated stub with the runtime's token, no SDK: splits the fs:read
    figure into what the runtime costs and what the SDK's ctx.tool adds on the client."""

    def __init__(self, rt: RuntimeProcess) -> None:
        self.channel = grpc.aio.insecure_channel(rt.address)
        self.stub = loom_pb2_grpc.BridgeStub(self.channel)
        self.metadata = (("authorization", f"Bearer {rt.token}"), ("x-loom-agent-id", "bench-stub"))
        self.args = json.dumps({"path": "bench.txt"})

    async def round(self, calls: int, samples: list[float]) -> None:
        for i in range(calls):
            t0 = time.perf_counter()
            res = await self.stub.ForwardToolCall(
                loom_pb2.ToolCall(id=str(i), name="fs:read", arguments=self.args, timeout_ms=30000),
                metadata=self.metadata,
            )
            json.loads(res.output)
            samples.append(time.perf_counter() - t0)


async def unary_vs_tool(address: str, rt: RuntimeProcess, calls: int, rounds: int) -> tuple[dict, dict, dict]:
    """`calls` of each side (bare unary, ctx.tool, bare stub to the runtime) in `rounds`
    alternating rounds, after WARMUP of each."""
    base = BaselineUnary(address)
    stub = StubToolCall(rt)
    agent = Agent("bench-tool", [], address=rt.address, token=rt.token)
    await agent.start()
    try:
        await base.round(WARMUP, [])
        await loom_tool_round(agent, WARMUP, [])
        await stub.round(WARMUP, [])
        b: list[float] = []
        t: list[float] = []
        r: list[float] = []
        per_round = max(1, calls // rounds)
        for _ in range(rounds):
            await base.round(per_round, b)
            await loom_tool_round(agent, per_round, t)
            await stub.round(per_round, r)
        figures = lambda s: {"rate": len(s) / sum(s), "latency": summary(s)}  # noqa: E731
        return figures(b), figures(t), figures(r)
    finally:
        await agent.stop()
        await base.channel.close()
        await stub.channel.close()


# ---------- report ----------


def row(label: str, base: str, loom: str, ratio: str) -> str:
    return f"{label:<34}{base:>20}{loom:>26}{ratio:>12}"


async def main() -> None:
    parser = argparse.ArgumentParser(description="Loom bridge benchmark (Python client)")
    parser.add_argument("--events", type=int, default=20000, help="events per throughput run")
    parser.add_argument("--roundtrips", type=int, default=1000, help="one-at-a-time events for latency")
    parser.add_argument("--calls", type=int, default=1000, help="sequential tool calls (and as many unary calls)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds the calls are split into")
    opts = parser.parse_args()

    with EchoServer() as echo, tempfile.TemporaryDirectory(prefix="loom-bench-") as tmp:
        b_stream = await baseline_stream(echo.address, opts.events, opts.roundtrips)
        ws = Path(tmp)
        (ws / "loom.toml").write_text('[runtime]\nlog_level = "warn"\n\n[watcher]\nenabled = false\n')
        (ws / "bench.txt").write_text("b" * READ_FILE_BYTES)
        rt = RuntimeProcess(ws).start()
        try:
            l_rt = await loom_stream(rt, opts.events, opts.roundtrips, "realtime")
            l_batched = await loom_stream(rt, opts.events, opts.roundtrips, "batched")
            b_unary, l_tool, l_stub = await unary_vs_tool(echo.address, rt, opts.calls, opts.rounds)
        finally:
            rt.stop()

    def lat(r: dict) -> str:
        return f"{r['latency'][0]:.2f} / {r['latency'][1]:.2f}"

    print(f"\nLoom bridge benchmark — Python grpcio {grpc.__version__} client, {opts.events} events, "
          f"{opts.roundtrips} round trips, {opts.calls} calls in {opts.rounds} alternating rounds, "
          f"{len(PAYLOAD)} B payloads")
    print(row("", "raw grpc-js echo", "loom runtime", "loom/raw"))
    print(row("stream events/s (realtime)", f"{b_stream['rate']:.0f}", f"{l_rt['rate']:.0f}", f"{l_rt['rate'] / b_stream['rate']:.2f}"))
    print(row("  delivered of sent", "", f"{l_rt['delivered']}/{opts.events}", ""))
    print(row("stream events/s (batched)", f"{b_stream['rate']:.0f}", f"{l_batched['rate']:.0f}", f"{l_batched['rate'] / b_stream['rate']:.2f}"))
    print(row("  delivered / batches received", "", f"{l_batched['delivered']} / {l_batched['stats']['delivery_batches']}", ""))
    print(row("event round trip p50 / p99 ms", lat(b_stream), lat(l_rt), f"{l_rt['latency'][0] / b_stream['latency'][0]:.2f}"))
    print(row("  batched subscriber p50 / p99 ms", lat(b_stream), lat(l_batched), f"{l_batched['latency'][0] / b_stream['latency'][0]:.2f}"))
    print(row(f"unary ({fs_read_answer_bytes()} B answer) vs fs:read", "", "", ""))
    print(row("unary vs ctx.tool fs:read calls/s", f"{b_unary['rate']:.0f}", f"{l_tool['rate']:.0f}", f"{l_tool['rate'] / b_unary['rate']:.2f}"))
    print(row("unary vs ctx.tool fs:read p50/p99 ms", lat(b_unary), lat(l_tool), f"{l_tool['latency'][0] / b_unary['latency'][0]:.2f}"))
    print(row("  fs:read by a bare stub (unary)", "", "", ""))
    print(row("  unary vs stub calls/s", f"{b_unary['rate']:.0f}", f"{l_stub['rate']:.0f}", f"{l_stub['rate'] / b_unary['rate']:.2f}"))
    print(row("  unary vs stub p50 / p99 ms", lat(b_unary), lat(l_stub), f"{l_stub['latency'][0] / b_unary['latency'][0]:.2f}"))
    print("(event round trip: publisher -> subscriber in Loom, write -> echoed read in the baseline; "
          "ratios of latency are loom p50 / raw p50)")


if __name__ == "__main__":
    asyncio.run(main())
