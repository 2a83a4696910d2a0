// The dashboard page: draws the topology once from /api/topology, then updates everything
// from the server-sent events of /api/events (one complete picture per update).
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const $ = (selector) => document.querySelector(selector);
let topology;
let selectedOrder;
let lastTrailAt = 0;

function el(tag, attributes = {}, text) {
  const node = tag.startsWith('svg:')
    ? document.createElementNS(SVG, tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function show(value) {
  return value === null || value === undefined ? '–' : String(value);
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.detail || `${response.status}`);
  return answer;
}

function say(text) {
  $('#action-result').textContent = text;
}

// ---- topology -------------------------------------------------------------------------

const ROW = 26;

function drawTopology() {
  const svg = $('#topology');
  const height = topology.queues.length * ROW + 16;
  svg.setAttribute('viewBox', `0 0 1100 ${height}`);
  svg.style.height = `${height}px`;
  const ySpread = (count, index) => 8 + ((index + 0.5) * (height - 16)) / count;
  const at = {};
  topology.services.forEach((service, index) => {
    at[`svc:${service.name}`] = { x: 10, y: ySpread(topology.services.length, index) };
  });
  topology.exchanges.forEach((exchange, index) => {
    at[`ex:${exchange.name}`] = { x: 230, y: ySpread(topology.exchanges.length, index) };
  });
  topology.queues.forEach((queue, index) => {
    at[`q:${queue.name}`] = { x: 510, y: 8 + index * ROW + ROW / 2 };
  });
  const links = el('svg:g');
  for (const service of topology.services) {
    for (const exchange of service.publishesTo) {
      links.append(curve(at[`svc:${service.name}`], 120, at[`ex:${exchange}`]));
    }
  }
  for (const queue of topology.queues) {
    for (const exchange of new Set(queue.from.map((binding) => binding.exchange))) {
      links.append(curve(at[`ex:${exchange}`], 200, at[`q:${queue.name}`]));
    }
  }
  svg.replaceChildren(links);
  for (const service of topology.services) {
    const { x, y } = at[`svc:${service.name}`];
    const group = el('svg:g', { class: 'svc', 'data-node': service.name });
    group.append(el('svg:rect', { x, y: y - 11, width: 120, height: 22, rx: 4 }));
    group.append(el('svg:text', { x: x + 8, y: y + 4 }, service.name));
    svg.append(group);
  }
  for (const exchange of topology.exchanges) {
    const { x, y } = at[`ex:${exchange.name}`];
    const group = el('svg:g', { class: 'exchange', 'data-exchange': exchange.name });
    group.append(el('svg:rect', { x, y: y - 11, width: 200, height: 22, rx: 10 }));
    group.append(
      el(
        'svg:text',
        { x: x + 8, y: y + 4 },
        `${exchange.name} (${exchange.type})${exchange.observed ? ' *' : ''}`,
      ),
    );
    svg.append(group);
  }
  for (const queue of topology.queues) {
    const { x, y } = at[`q:${queue.name}`];
    const group = el('svg:g', { class: 'queue', 'data-queue': queue.name });
    group.append(el('svg:rect', { class: 'box', x, y: y - 11, width: 570, height: 22, rx: 3 }));
    group.append(el('svg:rect', { class: 'bar', x, y: y - 11, width: 0, height: 22 }));
    group.append(el('svg:text', { x: x + 6, y: y + 4 }, queue.name));
    group.append(el('svg:text', { class: 'figures', x: x + 190, y: y + 4 }, ''));
    group.append(el('svg:text', { class: 'dead', x: x + 470, y: y + 4 }, ''));
    group.append(el('svg:text', { x: x + 520, y: y + 4 }, `→ ${queue.consumer}`));
    svg.append(group);
  }
}

function curve(from, fromWidth, to) {
  const x1 = from.x + fromWidth;
  const x2 = to.x;
  const middle = (x1 + x2) / 2;
  return el('svg:path', {
    d: `M${x1},${from.y} C${middle},${from.y} ${middle},${to.y} ${x2},${to.y}`,
  });
}

function updateTopology(state) {
  $('#source').textContent =
    state.source === 'management'
      ? 'queue figures from the RabbitMQ management API'
      : `queue figures from the services' /metrics (${state.managementProblem || 'no management API'})`;
  for (const queue of state.queues || []) {
    const group = document.querySelector(`g.queue[data-queue="${CSS.escape(queue.name)}"]`);
    if (!group) continue;
    group.dataset.ready = show(queue.ready);
    group.dataset.dead = show(queue.dead);
    group.dataset.busy = String((queue.ready || 0) > 0);
    const width = queue.ready ? Math.min(570, 40 * Math.log2(1 + queue.ready)) : 0;
    group.querySelector('rect.bar').setAttribute('width', String(width));
    const parts = [`ready ${show(queue.ready)}`];
    if (queue.unacked !== null) parts.push(`unacked ${queue.unacked}`);
    if (queue.retrying !== null) parts.push(`retrying ${queue.retrying}`);
    if (queue.inRate !== null) parts.push(`in ${queue.inRate}/s`);
    if (queue.outRate !== null) parts.push(`out ${queue.outRate}/s`);
    if (queue.consumers !== null) parts.push(`${queue.consumers} consumer(s)`);
    group.querySelector('text.figures').textContent = parts.join(' · ');
    group.querySelector('text.dead').textContent = queue.dead ? `dead ${queue.dead}` : '';
  }
  for (const service of state.services || []) {
    const node = document.querySelector(`g.svc[data-node="${service.name}"]`);
    if (node) node.dataset.state = service.state;
  }
}

// ---- services -------------------------------------------------------------------------

const PRESETS = ['slow', 'failing', 'paused', 'off'];

function activePreset(faults) {
  if (!faults) return undefined;
  if (faults.handlerFailAlways) return 'failing';
  if (faults.relayPaused) return 'paused';
  if (faults.handlerDelayMs > 0) return 'slow';
  return 'off';
}

function updateServices(state) {
  const container = $('#services');
  for (const service of state.services || []) {
    let tile = container.querySelector(`[data-service="${service.name}"]`);
    if (!tile) {
      tile = el('div', { class: 'tile', 'data-service': service.name });
      tile.append(
        el('h3', {}, service.name),
        el('div', { class: 'state' }),
        el('div', { class: 'faults' }),
      );
      for (const preset of PRESETS) {
        const button = el('button', { 'data-preset': preset, 'aria-pressed': 'false' }, preset);
        button.addEventListener('click', () => flip(service.name, preset));
        tile.querySelector('.faults').append(button);
      }
      container.append(tile);
    }
    tile.dataset.state = service.state;
    const backlog = service.outboxBacklog === undefined ? '' : ` · outbox ${service.outboxBacklog}`;
    tile.querySelector('.state').textContent =
      `${service.state}${service.detail ? ` (${service.detail})` : ''}${backlog}`;
    const preset = activePreset(service.faults);
    for (const button of tile.querySelectorAll('.faults button')) {
      button.disabled = service.faults === null;
      button.title =
        service.faults === null ? 'fault switches are not allowed on this service' : '';
      button.setAttribute(
        'aria-pressed',
        String(button.dataset.preset === preset && preset !== 'off'),
      );
    }
  }
}

async function flip(service, preset) {
  try {
    await call('PUT', `/api/faults/${service}`, { preset });
    say(`${service}: ${preset}`);
  } catch (err) {
    say(`${service}: ${err.message}`);
  }
}

// ---- orders, trail, dead letters --------------------------------------------------------

function updateOrders(state) {
  const body = $('#orders tbody');
  const rows = (state.orders || []).map((order) => {
    const row = el('tr', { 'data-order-id': order.id, 'data-status': order.status });
    if (order.id === selectedOrder) row.classList.add('selected');
    row.append(
      el('td', {}, order.id.slice(0, 8)),
      el('td', {}, order.style),
      el(
        'td',
        { class: `status-${order.status}` },
        order.status + (order.cancellationReason ? ` (${order.cancellationReason})` : ''),
      ),
      el('td', {}, new Date(order.createdAt).toLocaleTimeString()),
    );
    row.addEventListener('click', () => selectOrder(order.id));
    return row;
  });
  if (state.ordersProblem) {
    const row = el('tr');
    row.append(el('td', { colspan: 4, class: 'muted' }, state.ordersProblem));
    rows.push(row);
  }
  body.replaceChildren(...rows);
}

async function selectOrder(id) {
  selectedOrder = id;
  lastTrailAt = 0;
  for (const row of document.querySelectorAll('#orders tbody tr')) {
    row.classList.toggle('selected', row.dataset.orderId === id);
  }
  await refreshTrail();
}

async function refreshTrail() {
  if (!selectedOrder) return;
  lastTrailAt = Date.now();
  const { order, trail } = await call('GET', `/api/orders/${selectedOrder}/trail`);
  $('#trail-order').textContent =
    `${selectedOrder.slice(0, 8)}${order ? ` · ${order.style} · ${order.status}` : ''}`;
  $('#trail-order').dataset.status = order ? order.status : '';
  const start = trail.length > 0 ? trail[0].at : 0;
  const items = trail.map((step) => {
    const to = step.to.map((target) => `${target.queue} → ${target.consumer}`).join(', ');
    const item = el('li', { 'data-type': step.type, class: step.inferred ? 'inferred' : '' });
    item.append(
      el('code', {}, `+${step.at - start} ms`),
      document.createTextNode(
        ` ${step.type}: ${step.from} → ${step.exchange} (${step.routingKey}) → ${to || 'no queue'}${step.inferred ? ' (inferred from its reply)' : ''}`,
      ),
    );
    return item;
  });
  $('#trail').replaceChildren(
    ...(items.length ? items : [el('li', { class: 'muted' }, 'no message seen yet')]),
  );
}

function updateDead(state) {
  const rows = (state.queues || [])
    .filter((queue) => queue.dead)
    .map((queue) => {
      const row = el('tr', { 'data-dead-queue': queue.name });
      row.append(el('td', {}, `${queue.name}.dead`), el('td', {}, String(queue.dead)));
      return row;
    });
  if (rows.length === 0) {
    const row = el('tr');
    row.append(el('td', { class: 'muted', colspan: 2 }, 'none'));
    rows.push(row);
  }
  $('#dead tbody').replaceChildren(...rows);
}

function updateStatus(state, connected) {
  const status = $('#status');
  status.dataset.connected = String(connected);
  if (!state) return;
  const observer = state.observer || {};
  const burst =
    state.burst && state.burst.requested
      ? ` · burst ${state.burst.accepted + state.burst.failed}/${state.burst.requested}${state.burst.running ? '' : ' done'}`
      : '';
  status.textContent =
    `updated ${new Date(state.at).toLocaleTimeString()} · observer ${observer.state}` +
    `${observer.detail ? ` (${observer.detail})` : ''} · ${observer.ratePerSecond ?? 0} msg/s seen${burst}`;
}

// ---- wiring --------------------------------------------------------------------------

function onState(state) {
  updateStatus(state, true);
  updateServices(state);
  updateTopology(state);
  updateOrders(state);
  updateDead(state);
  if (selectedOrder && Date.now() - lastTrailAt > 900) void refreshTrail().catch(() => undefined);
}

async function main() {
  topology = await call('GET', '/api/topology');
  drawTopology();
  for (const button of document.querySelectorAll('#controls button[data-style]')) {
    button.addEventListener('click', async () => {
      const body = {
        style: button.dataset.style,
        ...(button.dataset.card ? { cardToken: button.dataset.card } : {}),
      };
      try {
        const order = await call('POST', '/api/orders', body);
        say(`placed ${order.id.slice(0, 8)} (${order.style})`);
        await selectOrder(order.id);
      } catch (err) {
        say(`not placed: ${err.message}`);
      }
    });
  }
  $('#burst').addEventListener('click', async () => {
    try {
      await call('POST', '/api/burst', { count: 200 });
      say('burst of 200 started');
    } catch (err) {
      say(`burst: ${err.message}`);
    }
  });
  const events = new EventSource('/api/events');
  events.addEventListener('state', (event) => onState(JSON.parse(event.data)));
  events.addEventListener('error', () => updateStatus(undefined, false));
}

void main();
