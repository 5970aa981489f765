// Tools: calls, errors, p50/p99 per tool from the calls the runtime reported; click a tool for its
// recent calls; call any registered tool with JSON arguments.
import { h, fmtMs, fmtTime } from '../dom';
import type { DashboardModel } from '../model';
import type { Host } from '../host';
import type { ToolInfoWire } from '../../runtime/contract/dashboard';

export function toolsView(model: DashboardModel, host: Host): HTMLElement {
  let selected: string | undefined;
  const table = h('table', { class: 'table', 'data-testid': 'tool-table' });
  const recent = h('table', { class: 'table', 'data-testid': 'tool-recent' });
  const mcp = h('table', { class: 'table', 'data-testid': 'mcp-table' });
  const select = h('select', { 'aria-label': 'tool', 'data-testid': 'call-tool-name' });
  const args = h('textarea', { rows: 3, 'aria-label': 'arguments (JSON)', 'data-testid': 'call-tool-args' }, '{}');
  const result = h('pre', { class: 'detail', 'data-testid': 'call-tool-result' });

  const loadTools = async () => {
    const r = await host.act({ type: 'listTools' });
    if (!r.ok) {
      result.textContent = r.error;
      return;
    }
    const tools = r.value as ToolInfoWire[];
    select.replaceChildren(...tools.map((t) => h('option', { value: t.name, title: t.description }, t.name)));
  };
  const call = async () => {
    result.textContent = `calling ${select.value}…`;
    const r = await host.act({ type: 'callTool', name: select.value, arguments: args.value });
    result.textContent = r.ok ? JSON.stringify(r.value, null, 2) : r.error;
  };

  function render(): void {
    const tools = model.tools();
    table.replaceChildren(
      h('tr', {}, ...['tool', 'calls', 'errors', 'p50', 'p99'].map((c) => h('th', {}, c))),
      ...tools.map((t) =>
        h(
          'tr',
          {
            class: selected === t.name ? 'selected' : '',
            'data-tool': t.name,
            onclick: () => {
              selected = t.name;
              render();
            },
          },
          h('td', {}, t.name),
          h('td', {}, t.calls),
          h('td', {}, t.errors),
          h('td', {}, fmtMs(t.p50)),
          h('td', {}, fmtMs(t.p99)),
        ),
      ),
    );
    const sel = tools.find((t) => t.name === selected);
    const header = h('tr', {}, ...['time', 'caller', 'duration', 'status'].map((c) => h('th', {}, c)));
    const rows = (sel?.recent ?? [])
      .slice()
      .reverse()
      .slice(0, 50)
      .map((c) =>
        h(
          'tr',
          {},
          h('td', {}, fmtTime(Number(c.startedMs))),
          h('td', {}, c.caller),
          h('td', {}, fmtMs(c.durationMs)),
          h('td', {}, c.status === 'TOOL_OK' ? 'ok' : `${c.status.replace('TOOL_', '').toLowerCase()} ${c.errorCode}`),
        ),
      );
    recent.replaceChildren(...(sel ? [header, ...rows] : []));
    mcp.replaceChildren(
      ...(model.mcpServers.length
        ? [
            h(
              'tr',
              {},
              ...['MCP server', 'state', 'transport', 'tools', 'restarts', 'last error'].map((c) => h('th', {}, c)),
            ),
            ...model.mcpServers.map((m) =>
              h(
                'tr',
                { 'data-mcp': m.name },
                h('td', {}, m.name),
                h('td', { class: `state state-${m.state}`, 'data-testid': `mcp-state-${m.name}` }, m.state),
                h('td', {}, m.transport),
                h('td', { title: m.tools.join(', ') }, m.tools.length),
                h('td', {}, m.restarts),
                h('td', { class: m.lastError ? 'error' : 'muted' }, m.lastError || '–'),
              ),
            ),
          ]
        : []),
    );
  }

  model.onChange(render);
  void loadTools();
  return h(
    'section',
    { class: 'view', id: 'view-tools' },
    h(
      'div',
      { class: 'toolbar' },
      h('strong', {}, 'Call a tool'),
      select,
      h('button', { onclick: loadTools }, 'Refresh list'),
      h('button', { onclick: call, 'data-testid': 'call-tool' }, 'Call'),
    ),
    args,
    result,
    table,
    recent,
    mcp,
  );
}
