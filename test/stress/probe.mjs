// Preloaded into the runtime by the stress suite (node --import): every LOOM_STRESS_PROBE_MS it
// appends the process's RSS and its event-loop delay over that interval to LOOM_STRESS_PROBE.
// The runtime has no such figures of its own, and measuring from outside would time gRPC too.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const out = process.env.LOOM_STRESS_PROBE;
if (out) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const every = Number(process.env.LOOM_STRESS_PROBE_MS) || 1000;
  setInterval(() => {
    const sample = {
      t: Date.now(),
      rss: process.memoryUsage.rss(),
      p99: delay.percentile(99) / 1e6,
      max: delay.max / 1e6,
    };
    delay.reset();
    appendFileSync(out, `${JSON.stringify(sample)}\n`);
  }, every).unref();
}
