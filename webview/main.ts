// The dashboard's entry: tabs over five views, all fed by one model from one host connection.
import { h } from './dom';
import { connectHost } from './host';
import { DashboardModel } from './model';
import { eventsView } from './views/events';
import { agentsView } from './views/agents';
import { toolsView } from './views/tools';
import { metricsView } from './views/metrics';
import { timelineView } from './views/timeline';

const host = connectHost();
const model = new DashboardModel();
host.onFeed((u) => model.apply(u));

const views = {
  Events: eventsView(model, host),
  Agents: agentsView(model, host),
  Tools: toolsView(model, host),
  Metrics: metricsView(model),
  Timeline: timelineView(model),
};
const connection = h('span', { class: 'connection', 'data-testid': 'connection' }, 'connecting…');
host.onConnection((state, detail) => {
  connection.textContent = detail ? `${state}: ${detail}` : state;
  connection.className = `connection ${state}`;
});
model.onChange(() => {
  if (connection.textContent !== 'connected') {
    connection.textContent = 'connected';
    connection.className = 'connection connected';
  }
});

const tabs = h('nav', { class: 'tabs', role: 'tablist' });
function show(name: keyof typeof views): void {
  for (const [n, v] of Object.entries(views)) v.hidden = n !== name;
  for (const b of tabs.querySelectorAll('button')) b.setAttribute('aria-selected', String(b.textContent === name));
  document.body.dataset.view = name;
}
for (const name of Object.keys(views) as (keyof typeof views)[]) {
  tabs.append(
    h('button', { role: 'tab', 'data-testid': `tab-${name.toLowerCase()}`, onclick: () => show(name) }, name),
  );
}
document.body.append(h('header', {}, h('strong', {}, 'Loom'), tabs, connection), ...Object.values(views));
show('Events');
host.start();
