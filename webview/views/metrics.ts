// Metrics: events/s per QoS, drops/s, backlog and store size over the last minutes, drawn on
// canvases from the samples the model derived from the runtime's counters.
import { h, fmtRate, fmtBytes } from '../dom';
import type { DashboardModel, MetricsSample } from '../model';

interface Series { label: string; color: string; value: (s: MetricsSample) => number }

export function metricsView(model: DashboardModel): HTMLElement {
  const specs: { title: string; series: Series[]; fmt: (n: number) => string }[] = [
    { title: 'Events/s delivered, per QoS', fmt: fmtRate, series: [
      { label: 'realtime', color: 'var(--loom-c1)', value: (s) => s.perQos.realtime },
      { label: 'batched', color: 'var(--loom-c2)', value: (s) => s.perQos.batched },
      { label: 'background', color: 'var(--loom-c3)', value: (s) => s.perQos.background },
      { label: 'published', color: 'var(--loom-c4)', value: (s) => s.published },
    ] },
    { title: 'Drops/s', fmt: fmtRate, series: [{ label: 'dropped', color: 'var(--loom-err)', value: (s) => s.dropped }] },
    { title: 'Backlog (queued events)', fmt: (n) => String(Math.round(n)), series: [{ label: 'backlog', color: 'var(--loom-c2)', value: (s) => s.backlog }] },
    { title: 'Store size', fmt: fmtBytes, series: [{ label: 'store', color: 'var(--loom-c3)', value: (s) => s.storeBytes }] },
  ];
  const charts = specs.map((c) => ({ ...c, canvas: h('canvas', { width: 560, height: 140, 'data-testid': `chart-${c.series[0].label}` }), legend: h('div', { class: 'legend' }) }));

  function render(): void {
    const hist = model.history;
    for (const c of charts) {
      const ctx = c.canvas.getContext('2d');
      if (!ctx) continue;
      const { width: w, height: ht } = c.canvas;
      ctx.clearRect(0, 0, w, ht);
      const max = Math.max(1, ...hist.flatMap((s) => c.series.map((x) => x.value(s))));
      // The axis covers what there is, up to five minutes: a young runtime's samples fill the chart.
      const t1 = hist.at(-1)?.t ?? Date.now();
      const t0 = Math.max(t1 - 5 * 60_000, hist[0]?.t ?? t1);
      const style = getComputedStyle(c.canvas);
      for (const series of c.series) {
        ctx.strokeStyle = style.getPropertyValue(series.color.slice(4, -1)).trim() || '#888';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        hist.filter((s) => s.t >= t0).forEach((s, i) => {
          const x = ((s.t - t0) / (t1 - t0 || 1)) * w;
          const y = ht - 4 - (series.value(s) / max) * (ht - 14);
          if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        });
        ctx.stroke();
      }
      const last = hist.at(-1);
      c.legend.replaceChildren(...c.series.map((s) => h('span', { class: 'legend-item', style: `color:${s.color}` }, `${s.label} ${last ? c.fmt(s.value(last)) : '–'}`)),
        h('span', { class: 'muted' }, ` max ${c.fmt(max)} over the last ${fmtSpan(t1 - t0)}`));
    }
  }

  model.onChange(render);
  return h('section', { class: 'view charts', id: 'view-metrics' }, ...charts.map((c) => h('figure', {}, h('figcaption', {}, c.title), c.canvas, c.legend)));
}

function fmtSpan(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.max(1, Math.round(ms / 1000))} s`;
}
