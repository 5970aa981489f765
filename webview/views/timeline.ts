// Timeline: the spans of one trace (an editor event through a Python agent to a tool), one row
// per agent, bars placed by start time and duration.
import { h, fmtMs } from '../dom';
import type { DashboardModel } from '../model';
import type { SpanWire } from '../../runtime/contract/dashboard';

export function timelineView(model: DashboardModel): HTMLElement {
  const picker = h('select', { 'aria-label': 'trace', 'data-testid': 'trace-picker' });
  const chart = h('div', { class: 'timeline', 'data-testid': 'timeline' });
  let follow = true;
  picker.addEventListener('change', () => {
    follow = picker.selectedIndex === 0;
    render();
  });

  function render(): void {
    const traces = new Map<string, SpanWire[]>();
    for (const s of model.spans) (traces.get(s.traceId) ?? traces.set(s.traceId, []).get(s.traceId)!).push(s);
    // Every untraced event starts a trace of its own, so single-span traces are the common case:
    // "latest" means the latest trace that went somewhere (two spans or more), else the latest.
    const ids = [...traces.keys()].reverse();
    const multi = ids.filter((id) => traces.get(id)!.length > 1);
    const listed = [...multi, ...ids.filter((id) => traces.get(id)!.length === 1)].slice(0, 50);
    const latest = multi[0] ?? ids[0];
    const current = follow ? latest : picker.value;
    picker.replaceChildren(
      h('option', { value: latest ?? '' }, 'latest trace'),
      ...listed.map((id) => {
        const spans = traces.get(id)!;
        return h(
          'option',
          { value: id, selected: !follow && id === current },
          `${rootLabel(spans)} · ${spans.length} span${spans.length === 1 ? '' : 's'} · ${id.slice(0, 8)}…`,
        );
      }),
    );
    const spans = (current && traces.get(current)) || [];
    if (spans.length === 0) {
      chart.replaceChildren(
        h('p', { class: 'muted' }, 'No traced spans yet: events and tool calls that carry a traceparent appear here.'),
      );
      return;
    }
    const t0 = Math.min(...spans.map((s) => Number(s.startMs)));
    const t1 = Math.max(...spans.map((s) => Number(s.startMs) + s.durationMs), t0 + 1);
    const agents = [...new Set(spans.map((s) => s.agent || '?'))];
    // A bar is at least 8 px wide at any zoom; its label stands beside it (a short span's own width
    // could not hold it), with its duration.
    chart.replaceChildren(
      ...agents.map((agent) =>
        h(
          'div',
          { class: 'tl-row' },
          h('span', { class: 'tl-agent' }, agent),
          h(
            'div',
            { class: 'tl-track' },
            ...spans
              .filter((s) => (s.agent || '?') === agent)
              .flatMap((s) => {
                const left = ((Number(s.startMs) - t0) / (t1 - t0)) * 100;
                const width = (s.durationMs / (t1 - t0)) * 100;
                return [
                  h('div', {
                    class: 'tl-bar',
                    title: `${s.name} · ${fmtMs(s.durationMs)}`,
                    style: `left:${left}%;width:max(8px, ${width}%)`,
                  }),
                  h(
                    'span',
                    { class: 'tl-label', style: `left:calc(${left}% + max(8px, ${width}%) + 4px)` },
                    `${s.name} · ${fmtMs(s.durationMs)}`,
                  ),
                ];
              }),
          ),
        ),
      ),
      h('div', { class: 'muted' }, `${rootLabel(spans)} · trace ${current} · ${fmtMs(t1 - t0)}`),
    );
  }

  model.onChange(render);
  return h('section', { class: 'view', id: 'view-timeline' }, h('div', { class: 'toolbar' }, picker), chart);
}

/** A trace is named by its root: the span with no parent (else the earliest), e.g. "publish editor.saved (vscode)". */
function rootLabel(spans: SpanWire[]): string {
  const byStart = [...spans].sort((a, b) => Number(a.startMs) - Number(b.startMs));
  const root = byStart.find((s) => !s.parentSpanId) ?? byStart[0]!;
  return root.agent ? `${root.name} (${root.agent})` : root.name;
}
