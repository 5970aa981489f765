// Metrics: events/s per QoS, drops/s, backlog and store size over the last minutes, drawn on
// canvases from the samples the model derived from the runtime's counters.
import { h, fmtRate, fmtBytes } from '../dom';
import type { DashboardModel, MetricsSample } from '../model';

interface Series {
  label: string;
  color: string;
  value: (s: MetricsSample) => number;
}

export function metricsView(model: DashboardModel): HTMLElement {
  const specs: { title: string; series: Series[]; fmt: (n: number) => string }[] = [
    {
      title: 'Events/s delivered, per QoS',
      fmt: fmtRate,
      series: [
        { label: 'realtime', color: 'var(--loom-c1)', value: (s) => s.perQos.realtime },
        { label: 'batched', color: 'var(--loom-c2)', value: (s) => s.perQos.batched },
        { label: 'background', color: 'var(--loom-c3)', value: (s) => s.perQos.background },
        { label: 'published', color: 'var(--loom-c4)', value: (s) => s.published },
      ],
    },
    {
      title: 'Drops/s',
      fmt: fmtRate,
      series: [{ label: 'dropped', color: 'var(--loom-err)', value: (s) => s.dropped }],
    },
    {
      title: 'Backlog (queued events)',
      fmt: (n) => String(Math.round(n)),
      series: [{ label: 'backlog', color: 'var(--loom-c2)', value: (s) => s.backlog }],
    },
    {
      title: 'Store size',
      fmt: fmtBytes,
      series: [{ label: 'store', color: 'var(--loom-c3)', value: (s) => s.storeBytes }],
    },
  ];
  const charts = specs.map((c) => ({
    ...c,
    canvas: h('canvas', { width: 560, height: 150, 'data-testid': `chart-${c.series[0].label}` }),
    legend: h('div', { class: 'legend' }),
    readout: h('div', { class: 'muted readout' }),
  }));
  // Room for the value axis on the left and the time axis below.
  const LEFT = 56;
  const BOTTOM = 18;
  const TOP = 6;

  function span(): { hist: MetricsSample[]; t0: number; t1: number } {
    const hist = model.history;
    // The axis covers what there is, up to five minutes: a young runtime's samples fill the chart.
    const t1 = hist.at(-1)?.t ?? Date.now();
    const t0 = Math.max(t1 - 5 * 60_000, hist[0]?.t ?? t1);
    return { hist: hist.filter((s) => s.t >= t0), t0, t1 };
  }

  function render(): void {
    const { hist, t0, t1 } = span();
    for (const c of charts) {
      const ctx = c.canvas.getContext('2d');
      if (!ctx) continue;
      const { width: w, height: ht } = c.canvas;
      ctx.clearRect(0, 0, w, ht);
      const max = Math.max(1, ...hist.flatMap((s) => c.series.map((x) => x.value(s))));
      const style = getComputedStyle(c.canvas);
      const color = (v: string) => style.getPropertyValue(v.slice(4, -1)).trim() || '#888';
      const x = (t: number) => LEFT + ((t - t0) / (t1 - t0 || 1)) * (w - LEFT - 4);
      const y = (v: number) => ht - BOTTOM - (v / max) * (ht - BOTTOM - TOP);
      // Axes: gridlines with values at 0, half and the top; times at both ends and the middle.
      ctx.font = '10px sans-serif';
      ctx.fillStyle = color('var(--loom-muted)');
      ctx.strokeStyle = color('var(--loom-border)');
      ctx.lineWidth = 1;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      for (const v of [0, max / 2, max]) {
        ctx.beginPath();
        ctx.moveTo(LEFT, y(v));
        ctx.lineTo(w - 4, y(v));
        ctx.stroke();
        ctx.fillText(c.fmt(v), LEFT - 4, y(v));
      }
      ctx.textBaseline = 'bottom';
      for (const [t, align] of [
        [t0, 'left'],
        [(t0 + t1) / 2, 'center'],
        [t1, 'right'],
      ] as const) {
        ctx.textAlign = align;
        ctx.fillText(clock(t), align === 'left' ? LEFT : align === 'right' ? w - 4 : x(t), ht);
      }
      for (const series of c.series) {
        ctx.strokeStyle = color(series.color);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        hist.forEach((s, i) =>
          i === 0 ? ctx.moveTo(x(s.t), y(series.value(s))) : ctx.lineTo(x(s.t), y(series.value(s))),
        );
        ctx.stroke();
      }
      const last = hist.at(-1);
      c.legend.replaceChildren(
        ...c.series.map((s) =>
          h(
            'span',
            { class: 'legend-item', style: `color:${s.color}` },
            `${s.label} ${last ? c.fmt(s.value(last)) : '–'}`,
          ),
        ),
        h('span', { class: 'muted' }, ` max ${c.fmt(max)} over the last ${fmtSpan(t1 - t0)}`),
      );
    }
  }

  // Hover: the values of the sample nearest the pointer, in the readout under the chart.
  for (const c of charts) {
    c.canvas.addEventListener('mousemove', (e) => {
      const { hist, t0, t1 } = span();
      if (hist.length === 0) return;
      const rect = c.canvas.getBoundingClientRect();
      const px = ((e.clientX - rect.left) / rect.width) * c.canvas.width;
      const t = t0 + ((px - LEFT) / (c.canvas.width - LEFT - 4)) * (t1 - t0);
      const nearest = hist.reduce((a, b) => (Math.abs(b.t - t) < Math.abs(a.t - t) ? b : a));
      c.readout.textContent = `${clock(nearest.t)}: ${c.series.map((s) => `${s.label} ${c.fmt(s.value(nearest))}`).join(', ')}`;
    });
    c.canvas.addEventListener('mouseleave', () => (c.readout.textContent = ''));
  }

  model.onChange(render);
  return h(
    'section',
    { class: 'view charts', id: 'view-metrics' },
    ...charts.map((c) => h('figure', {}, h('figcaption', {}, c.title), c.canvas, c.legend, c.readout)),
  );
}

function clock(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour12: false });
}

function fmtSpan(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.max(1, Math.round(ms / 1000))} s`;
}
