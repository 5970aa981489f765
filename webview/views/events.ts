// Events: a virtualised list (only the visible rows exist in the DOM, so 5 000 events cost the
// same as 50), filters by topic pattern, type and agent, pause, and a detail pane with the
// payload and the envelope of the clicked event.
import { matchesSegments, parsePattern } from '../../runtime/contract/topics';
import { h, fmtTime } from '../dom';
import type { DashboardModel, EventRow } from '../model';
import { base64ToText } from '../../runtime/contract/dashboard';
import type { Host } from '../host';
import { messageOf } from '../../runtime/contract/errors';

const ROW = 22;

export function eventsView(model: DashboardModel, host: Host): HTMLElement {
  let paused = false;
  let frozen: EventRow[] = [];
  let selected: EventRow | undefined;
  let pattern: string[] | undefined;

  const topicInput = h('input', {
    placeholder: 'topic pattern, e.g. fs.> or timer.*',
    'aria-label': 'topic filter',
    'data-testid': 'filter-topic',
  });
  const typeInput = h('input', { placeholder: 'type', 'aria-label': 'type filter', 'data-testid': 'filter-type' });
  const agentInput = h('input', { placeholder: 'agent', 'aria-label': 'agent filter', 'data-testid': 'filter-agent' });
  const filterError = h('span', { class: 'error' });
  const pauseBtn = h(
    'button',
    {
      'data-testid': 'pause',
      onclick: () => {
        paused = !paused;
        frozen = model.events.slice();
        pauseBtn.textContent = paused ? 'Resume' : 'Pause';
        render();
      },
    },
    'Pause',
  );
  const count = h('span', { class: 'muted', 'data-testid': 'event-count' });
  const viewport = h('div', { class: 'viewport', 'data-testid': 'event-list' });
  const spacer = h('div', { class: 'spacer' });
  const rows = h('div', { class: 'rows' });
  spacer.append(rows);
  viewport.append(spacer);
  const detail = h(
    'pre',
    { class: 'detail', 'data-testid': 'event-detail' },
    'Click an event to see its payload and envelope.',
  );

  const pubTopic = h('input', {
    value: 'dashboard.test',
    'aria-label': 'publish topic',
    'data-testid': 'publish-topic',
  });
  const pubType = h('input', { value: 'test', 'aria-label': 'publish type' });
  const pubPayload = h('input', {
    value: '{"hello":"from the dashboard"}',
    'aria-label': 'publish payload',
    'data-testid': 'publish-payload',
  });
  const pubResult = h('span', { class: 'muted', 'data-testid': 'publish-result' });
  const publish = async () => {
    const r = await host.act({
      type: 'publish',
      topic: pubTopic.value.trim(),
      eventType: pubType.value.trim(),
      payload: pubPayload.value,
    });
    pubResult.textContent = r.ok ? 'published' : r.error;
    pubResult.className = r.ok ? 'muted' : 'error';
  };

  for (const input of [topicInput, typeInput, agentInput])
    input.addEventListener('input', () => {
      filterError.textContent = '';
      try {
        pattern = topicInput.value.trim() ? parsePattern(topicInput.value.trim()) : undefined;
      } catch (e) {
        pattern = undefined;
        filterError.textContent = messageOf(e);
      }
      render();
    });
  viewport.addEventListener('scroll', () => render());

  const visible = (): EventRow[] => {
    const type = typeInput.value.trim();
    const agent = agentInput.value.trim();
    return (paused ? frozen : model.events).filter(
      (e) =>
        (!pattern || matchesSegments(pattern, e.topic.split('.'))) &&
        (!type || e.event.type.includes(type)) &&
        (!agent || sender(e).includes(agent)),
    );
  };

  function render(): void {
    const list = visible();
    count.textContent = `${list.length} ${list.length === 1 ? 'event' : 'events'}${model.eventsOmitted ? ` (${model.eventsOmitted} more not sent by the runtime: rate limit)` : ''}${model.eventsMissed ? ` · ${model.eventsMissed} missed while the dashboard was hidden` : ''}`;
    spacer.style.height = `${list.length * ROW}px`;
    // Newest first.
    const first = Math.floor(viewport.scrollTop / ROW);
    const n = Math.ceil((viewport.clientHeight || 400) / ROW) + 2;
    rows.style.transform = `translateY(${first * ROW}px)`;
    rows.replaceChildren(
      ...list
        .slice()
        .reverse()
        .slice(first, first + n)
        .map((e) =>
          h(
            'div',
            {
              class: `row${selected === e ? ' selected' : ''}`,
              'data-topic': e.topic,
              onclick: () => {
                selected = e;
                showDetail(e);
                render();
              },
            },
            h('span', { class: 'c-time' }, fmtTime(Number(e.event.timestampMs) || e.receivedMs)),
            h('span', { class: 'c-topic' }, e.topic),
            h('span', { class: 'c-type' }, e.event.type),
            h('span', { class: 'c-sender' }, sender(e)),
            h('span', { class: 'c-qos' }, e.qos.replace('QOS_', '').toLowerCase()),
            h('span', { class: 'c-size' }, `${e.size} B`),
          ),
        ),
    );
  }

  function showDetail(e: EventRow): void {
    const text = base64ToText(e.event.payload);
    let payload = text;
    try {
      payload = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      /* not JSON: shown as text */
    }
    const envelope = Object.entries(e.event.metadata)
      .map(([k, v]) => `  ${k}: ${v}`)
      .join('\n');
    detail.textContent = `topic: ${e.topic}\ntype: ${e.event.type}\nid: ${e.event.id}\nsource: ${e.event.source}\nqos: ${e.qos}\nsize: ${e.size} B${e.size > text.length ? ' (payload cut in the feed)' : ''}\n\nenvelope:\n${envelope || '  (none)'}\n\npayload:\n${payload}`;
  }

  model.onChange(() => {
    if (!paused) render();
  });
  return h(
    'section',
    { class: 'view', id: 'view-events' },
    h('div', { class: 'toolbar' }, topicInput, typeInput, agentInput, pauseBtn, count, filterError),
    h('div', { class: 'split' }, viewport, detail),
    h(
      'div',
      { class: 'toolbar' },
      h('strong', {}, 'Publish a test event'),
      pubTopic,
      pubType,
      pubPayload,
      h('button', { onclick: publish, 'data-testid': 'publish' }, 'Publish'),
      pubResult,
    ),
  );
}

function sender(e: EventRow): string {
  return e.event.metadata['loom.sender'] ?? e.event.metadata['sender'] ?? e.event.source;
}
