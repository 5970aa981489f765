// Timeline: the spans of one trace (an editor event through a Python agent to a tool), one row
// per agent, bars placed by start time and duration.
import { h, fmtMs } from '../dom';
import type { DashboardModel } from '../model';
import type { SpanWire } from '../protocol';

export function timelineView(model: DashboardModel): HTMLElement {
  const picker = h('select', { 'aria-label': 'trace', 'data-testid': 'trace-picker' });
  const chart = h('div', { class: 'timeline', 'data-testid': 'timeline' });
  let follow = true;
  picker.addEventListener('change', () => { follow = picker.selectedIndex === 0; render(); });

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
    picker.replaceChildren(h('option', { value: latest ?? '' }, 'latest trace'), ...listed.map((id) => {
      const spans = traces.get(id)!;
      return h('option', { value: id, selected: !follow && id === current }, `${spans[0]!.name} · ${spans.length} span${spans.length === 1 ? '' : 's'} · ${id.slice(0, 8)}…`);
    }));
    const spans = (current && traces.get(current)) || [];
    if (spans.length === 0) { chart.replaceChildren(h('p', { class: 'muted' }, 'No traced spans yet: events and tool calls that carry a traceparent appear here.')); return; }
    const t0 = Math.min(...spans.map((s) => Number(s.startMs)));
    const t1 = Math.max(...spans.map((s) => Number(s.startMs) + s.durationMs), t0 + 1);
    const agents = [...new Set(spans.map((s) => s.agent || '?'))];
    chart.replaceChildren(...agents.map((agent) => h('div', { class: 'tl-row' }, h('span', { class: 'tl-agent' }, agent),
      h('div', { class: 'tl-track' }, ...spans.filter((s) => (s.agent || '?') === agent).map((s) => h('div', {
        class: 'tl-bar', title: `${s.name} · ${fmtMs(s.durationMs)}`,
        style: `left:${((Number(s.startMs) - t0) / (t1 - t0)) * 100}%;width:max(3px, ${(s.durationMs / (t1 - t0)) * 100}%)`,
      }, s.name))))), h('div', { class: 'muted' }, `trace ${current} · ${fmtMs(t1 - t0)}`));
  }

  model.onChange(render);
  return h('section', { class: 'view', id: 'view-timeline' }, h('div', { class: 'toolbar' }, picker), chart);
}
