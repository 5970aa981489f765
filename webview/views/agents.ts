// Agents: a graph of agents and the topics they subscribe to and publish on, edges weighted by
// the live rate, and a table with state, heartbeat age, restarts and start/stop/restart actions.
import { matchesSegments } from '../../runtime/contract/topics';
import { h, svg, fmtRate } from '../dom';
import type { DashboardModel } from '../model';
import type { Host } from '../host';

export function agentsView(model: DashboardModel, host: Host): HTMLElement {
  const graph = svg('svg', {
    class: 'graph',
    'data-testid': 'agent-graph',
    viewBox: '0 0 800 320',
    preserveAspectRatio: 'xMidYMid meet',
  });
  const table = h('table', { class: 'table', 'data-testid': 'agent-table' });
  const status = h('div', { class: 'muted', 'data-testid': 'agent-action-result' });
  // [cluster]: the NATS link's health, and agents of every runtime with a node column and filter.
  const cluster = h('div', { class: 'muted', 'data-testid': 'cluster-health' });
  const nodeFilter = h('select', { 'data-testid': 'node-filter', onchange: () => render() }) as HTMLSelectElement;
  let filterNodes = '';

  const control = async (agentId: string, action: 'start' | 'stop' | 'restart') => {
    status.textContent = `${action} ${agentId}…`;
    const r = await host.act({ type: 'agent', agentId, action });
    status.textContent = r.ok ? `${action} ${agentId}: done` : `${action} ${agentId}: ${r.error}`;
  };

  function renderCluster(): string | undefined {
    const c = model.lastUpdate?.stats?.cluster;
    const nodes = [...new Set(model.agents.map((a) => a.node).filter(Boolean))].sort();
    // Rebuilt only when the nodes change: an open drop-down would close on every update otherwise.
    if (nodes.join(',') !== filterNodes) {
      filterNodes = nodes.join(',');
      const chosen = nodeFilter.value;
      nodeFilter.replaceChildren(
        h('option', { value: '' }, 'every node'),
        ...nodes.map((n) => h('option', { value: n }, n)),
      );
      nodeFilter.value = nodes.includes(chosen) ? chosen : '';
    }
    nodeFilter.hidden = nodes.length === 0;
    const dropped = Object.entries(c?.dropped ?? {})
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    cluster.textContent = c?.enabled
      ? `cluster: ${c.state} as ${c.node}${c.server ? ` via ${c.server}` : ''} · nodes ${c.nodes.join(', ') || c.node} · sent ${c.eventsSent} · received ${c.eventsReceived}` +
        `${Number(c.bufferedEvents) ? ` · buffered ${c.bufferedEvents}` : ''}${dropped ? ` · dropped ${dropped}` : ''}${c.lastError ? ` · ${c.lastError}` : ''}`
      : '';
    cluster.className = c?.enabled && c.state !== 'connected' ? 'error' : 'muted';
    return c?.enabled ? c.node : undefined;
  }

  function render(): void {
    const now = model.lastUpdate?.timestampMs ?? Date.now();
    const local = renderCluster();
    const clustered = model.agents.some((a) => a.node);
    const shown = model.agents.filter((a) => !nodeFilter.value || a.node === nodeFilter.value);
    table.replaceChildren(
      h(
        'tr',
        {},
        ...[
          'agent',
          ...(clustered ? ['node'] : []),
          'state',
          'pid',
          'restarts',
          'heartbeat',
          'topics',
          'tools',
          '',
        ].map((c) => h('th', {}, c)),
      ),
      ...shown.map((a) =>
        h(
          'tr',
          { 'data-agent': a.agentId, ...(a.node ? { 'data-node': a.node } : {}) },
          h('td', {}, a.agentId),
          ...(clustered ? [h('td', {}, a.node || '–')] : []),
          h('td', { class: `state state-${a.state}`, 'data-testid': `state-${a.agentId}` }, a.state),
          h('td', {}, a.pid || '–'),
          h('td', {}, a.restarts),
          h(
            'td',
            {},
            Number(a.lastHeartbeatMs)
              ? `${Math.max(0, Math.round((now - Number(a.lastHeartbeatMs)) / 1000))} s ago`
              : '–',
          ),
          h('td', {}, a.topics.join(', ')),
          h('td', {}, a.tools.join(', ')),
          h(
            'td',
            {},
            ...(a.node && local && a.node !== local
              ? [h('span', { class: 'muted' }, `on ${a.node}`)]
              : a.supervised
                ? (['start', 'stop', 'restart'] as const).map((act) =>
                    h('button', { 'data-testid': `${act}-${a.agentId}`, onclick: () => control(a.agentId, act) }, act),
                  )
                : [h('span', { class: 'muted' }, 'not supervised')]),
          ),
        ),
      ),
    );
    drawGraph();
  }

  function drawGraph(): void {
    const agents = model.agents;
    const topics = [...model.topicRates.entries()]
      .filter(([t]) => !t.startsWith('_inbox.'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 14);
    const published = new Map<string, Set<string>>(); // agent → topics it published recently
    for (const e of model.events.slice(-500)) {
      const s = e.event.metadata['loom.sender'] ?? e.event.metadata['sender'];
      if (s) (published.get(s) ?? published.set(s, new Set()).get(s)!).add(e.topic);
    }
    const ay = (i: number) => 20 + (i + 0.5) * (280 / Math.max(1, agents.length));
    const ty = (i: number) => 20 + (i + 0.5) * (280 / Math.max(1, topics.length));
    const nodes: SVGElement[] = [];
    const maxRate = Math.max(1, ...topics.map(([, r]) => r));
    topics.forEach(([topic, rate], ti) => {
      agents.forEach((a, ai) => {
        const subscribes = a.topics.some((p) => matchesSegments(p.split('.'), topic.split('.')));
        const publishes = published.get(a.agentId)?.has(topic);
        if (!subscribes && !publishes) return;
        nodes.push(
          svg('line', {
            x1: 170,
            y1: ay(ai),
            x2: 560,
            y2: ty(ti),
            class: `edge${publishes ? ' pub' : ''}`,
            'stroke-width': 1 + 5 * (rate / maxRate),
          }),
        );
      });
      const g = svg('g', { class: 'node topic' });
      g.append(svg('circle', { cx: 560, cy: ty(ti), r: 5 }));
      const label = svg('text', { x: 572, y: ty(ti) + 4 });
      label.textContent = `${topic}  ${fmtRate(rate)}`;
      g.append(label);
      nodes.push(g);
    });
    agents.forEach((a, ai) => {
      const g = svg('g', { class: `node agent state-${a.state}` });
      g.append(svg('rect', { x: 20, y: ay(ai) - 11, width: 150, height: 22, rx: 4 }));
      const label = svg('text', { x: 28, y: ay(ai) + 4 });
      label.textContent = `${a.agentId} · ${a.state}`;
      g.append(label);
      nodes.push(g);
    });
    graph.replaceChildren(...nodes);
  }

  model.onChange(render);
  return h('section', { class: 'view', id: 'view-agents' }, graph, cluster, nodeFilter, status, table);
}
