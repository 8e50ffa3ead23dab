// SPDX-License-Identifier: MIT
// The dashboard's script (server/dashboard.c serves it; docs/api.md, "Dashboard").
// Everything from the server is inserted as text (textContent), never as HTML.
'use strict';

const POLL_MS = 3000;
const PAGE = 50;
let session = null;
let timer = null;
const st = { offset: 0, total: 0, filter: '', auditBefore: 0, histMachine: '', histBefore: 0 };

const $ = (id) => document.getElementById(id);
const shown = {};

// fn(data) only when data differs from what the view shows: a poll that
// brings nothing new leaves the DOM (and a selection in it) alone
function render(key, data, fn) {
  const j = JSON.stringify(data);
  if (shown[key] === j) return;
  shown[key] = j;
  fn(data);
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, cls) {
  const tr = el('tr', null, cls);
  for (const c of cells) tr.appendChild(c instanceof Node ? c : el('td', c));
  return tr;
}

function when(t) {
  return t ? new Date(t * 1000).toISOString().replace('T', ' ').replace('.000Z', 'Z') : '';
}

function showError(msg) {
  $('error').textContent = msg || '';
  $('error').hidden = !msg;
}

async function api(path, body) {
  const opt = { credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    opt.method = 'POST';
    opt.headers['Content-Type'] = 'application/json';
    if (session) opt.headers['X-CSRF-Token'] = session.csrf;
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  const j = await r.json().catch(() => ({}));
  if (r.status === 401 && path !== '/api/login') {
    session = null;
    show('login');
    throw new Error('log in first');
  }
  if (!r.ok) throw new Error(j.message || ('HTTP ' + r.status));
  return j;
}

function show(id) {
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id;
  $('nav').hidden = $('logout').hidden = !session;
  $('who').textContent = session ? session.name + ' (' + session.role + ')' : '';
}

// ---- the fleet ----
function card(label, n, cls) {
  const d = el('div', null, 'card ' + (cls || ''));
  d.appendChild(el('b', n));
  d.appendChild(el('span', label));
  return d;
}

async function fleet() {
  const q = new URLSearchParams({ offset: st.offset, limit: PAGE });
  if (st.filter) q.set('filter', st.filter);
  else q.set('count', 'no');	// the summary's total is the page's
  const [sum, page] = await Promise.all([api('/api/summary'), api('/api/machines?' + q)]);
  if (page.total === null) page.total = sum.total;
  render('fleet', [sum, page], () => fleetShow(sum, page));
}

function fleetShow(sum, page) {
  const cards = $('summary');
  cards.replaceChildren(card('machines', sum.total),
    card('failing', sum.results.fail, 'fail'), card('passing', sum.results.pass, 'pass'),
    card('not attested', sum.results.none), card('approved', sum.states.approved),
    card('pending', sum.states.pending), card('revoked', sum.states.revoked));
  const tb = $('machines').tBodies[0];
  tb.replaceChildren(...page.machines.map((m) => {
    const a = el('a', m.name);
    a.href = '#machine/' + encodeURIComponent(m.name);
    const name = el('td');
    name.appendChild(a);
    const res = el('td', m.last_result || '-', 'res');
    const cls = (m.last_result === 'fail' ? 'fail' : m.last_result === 'pass' ? 'pass' : '') +
      (m.state === 'revoked' ? ' revoked' : '');
    const tr = row([name, m.state, res, m.last_reason, when(m.last_at), m.policy], cls);
    tr.dataset.machine = m.name;
    return tr;
  }));
  st.total = page.total;
  const last = Math.min(page.offset + page.machines.length, page.total);
  $('page').textContent = (page.total ? page.offset + 1 : 0) + '-' + last + ' of ' + page.total;
  $('prev').disabled = st.offset === 0;
  $('next').disabled = last >= page.total;
}

// ---- one machine ----
function diffRows(d) {
  const e = d.expected || {};
  const f = d.found || {};
  // what differs is coloured (expected green, found red); what agrees is not
  const mk = (label, a, b, mono) => {
    const same = a === b ? ' same' : '';
    return row([el('th', label),
      el('td', a === undefined ? '(none)' : a, 'expected' + same + (mono ? ' mono' : '')),
      el('td', b === undefined ? '(none)' : b, 'found' + same + (mono ? ' mono' : ''))]);
  };
  return [mk('Description', e.description, f.description), mk('Digest', e.digest, f.digest, true),
    mk('Event type', e.type, f.type), mk('Source / log', e.source, f.log)];
}

async function machine(name) {
  if (st.histMachine !== name) { st.histMachine = name; st.histBefore = 0; }
  const q = new URLSearchParams({ name: name });
  if (st.histBefore) q.set('before', st.histBefore);
  const j = await api('/api/machine?' + q);
  $('m-actions').hidden = !(session && session.role === 'write');
  render('machine', j, machineShow);
}

function machineShow(j) {
  const m = j.machine;
  $('m-name').textContent = m.name;
  const info = $('m-info');
  info.replaceChildren();
  for (const [k, v] of [['State', m.state], ['Last result', m.last_result || '-'], ['Reason', m.last_reason],
    ['Last attested', when(m.last_at)], ['Policy', m.policy], ['TPM', m.tpm], ['EK trust', m.ek_trust],
    ['Enrolled', when(m.enrolled_at)]]) {
    info.appendChild(el('dt', k));
    info.appendChild(el('dd', v));
  }
  if (document.activeElement !== $('m-policy')) $('m-policy').value = m.policy;
  const d = j.difference;
  $('m-diff').hidden = !d;
  if (d) {
    $('m-diff-head').textContent = 'PCR ' + d.pcr + ' (' + d.bank + '), event ' + d.index + ': ' + d.status +
      (d.policy ? ', policy ' + d.policy + ', manifest ' + d.manifest : '') + ', at ' + when(d.at);
    $('diff').tBodies[0].replaceChildren(...diffRows(d));
  }
  $('history').tBodies[0].replaceChildren(...j.history.records.map((a) =>
    row([when(a.at), a.event, a.result, a.reason, a.detail], a.result === 'fail' ? 'fail' : '')));
  $('h-older').disabled = !j.history.next_before;
  $('h-older').dataset.next = j.history.next_before || '';
}

async function setState(approve) {
  const name = $('m-name').textContent;
  const body = { machine: name };
  if (approve && $('m-policy').value) body.policy = $('m-policy').value;
  try {
    await api(approve ? '/api/machine/approve' : '/api/machine/revoke', body);
    showError('');
    refresh();
  } catch (e) { showError(e.message); }
}

// ---- policies ----
async function policies() {
  $('policy-form').hidden = !(session && session.role === 'write');
  const j = await api('/api/policies');
  render('policies', j, policiesShow);
}

function policiesShow(j) {
  $('policy-list').tBodies[0].replaceChildren(...j.policies.map((p) => {
    const ms = el('td');
    for (const m of p.manifests) {
      const a = el('a', m.label);
      a.href = '#policy/' + encodeURIComponent(p.name);
      ms.appendChild(a);
      ms.appendChild(document.createTextNode(' '));
    }
    return row([p.name, p.pcrs.join(','), p.banks.join(','), ms]);
  }));
}

async function policy(name) {
  await policies();
  const p = await api('/api/policies?name=' + encodeURIComponent(name));
  $('manifest').hidden = false;
  $('manifest-name').textContent = p.name;
  $('manifest-text').textContent = p.manifests.map((m) => '# ' + m.label + '\n' +
    JSON.stringify(JSON.parse(m.manifest || '{}'), null, 1)).join('\n\n');
}

async function addPolicy(ev) {
  ev.preventDefault();
  const f = $('p-file').files[0];
  try {
    if (!f) throw new Error('choose a manifest file');
    const body = { name: $('p-name').value, manifest: await f.text(), pcrs: $('p-pcrs').value,
      banks: $('p-banks').value, label: $('p-label').value };
    const r = await api('/api/policy', body);
    showError(r.weak ? 'policy ' + r.policy + ' added; it covers only PCRs software can extend at will' : '');
    $('policy-form').reset();
    refresh();
  } catch (e) { showError(e.message); }
}

// ---- audit log ----
async function audit() {
  const q = new URLSearchParams({ limit: PAGE });
  if ($('a-machine').value) q.set('machine', $('a-machine').value);
  if ($('a-result').value) q.set('result', $('a-result').value);
  if (st.auditBefore) q.set('before', st.auditBefore);
  const j = await api('/api/audit?' + q);
  render('audit', j, auditShow);
}

function auditShow(j) {
  $('audit-list').tBodies[0].replaceChildren(...j.records.map((a) =>
    row([a.id, when(a.at), a.machine, a.event, a.result, a.reason, a.detail], a.result === 'fail' ? 'fail' : '')));
  $('a-older').disabled = !j.next_before;
  $('a-older').dataset.next = j.next_before || '';
}

// ---- routing and polling ----
async function refresh() {
  clearTimeout(timer);
  const h = decodeURIComponent(location.hash.slice(1) || 'fleet');
  const [view, arg] = [h.split('/')[0], h.split('/').slice(1).join('/')];
  try {
    if (!session) session = await api('/api/session');
    if (view === 'machine') { show('machine'); await machine(arg); }
    else if (view === 'policies') { show('policies'); $('manifest').hidden = true; await policies(); }
    else if (view === 'policy') { show('policies'); await policy(arg); }
    else if (view === 'audit') { show('audit'); await audit(); }
    else { show('fleet'); await fleet(); }
    showError('');
    document.body.dataset.loaded = h;
  } catch (e) {
    if (session) showError(e.message);
    else show('login');
  }
  if (session && view !== 'policy') timer = setTimeout(refresh, POLL_MS);
}

function init() {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      session = await api('/api/login', { token: $('token').value });
      $('token').value = '';
      showError('');
      refresh();
    } catch (e) { showError('login failed: ' + e.message); }
  });
  $('logout').addEventListener('click', async () => {
    try { await api('/api/logout', {}); } catch (e) { /* logged out either way */ }
    session = null;
    show('login');
  });
  $('filter').addEventListener('input', () => { st.filter = $('filter').value; st.offset = 0; refresh(); });
  $('prev').addEventListener('click', () => { st.offset = Math.max(0, st.offset - PAGE); refresh(); });
  $('next').addEventListener('click', () => { st.offset += PAGE; refresh(); });
  $('m-approve').addEventListener('click', () => setState(true));
  $('m-revoke').addEventListener('click', () => setState(false));
  $('policy-form').addEventListener('submit', addPolicy);
  $('h-newest').addEventListener('click', () => { st.histBefore = 0; refresh(); });
  $('h-older').addEventListener('click', () => { st.histBefore = Number($('h-older').dataset.next); refresh(); });
  $('a-search').addEventListener('click', () => { st.auditBefore = 0; refresh(); });
  $('a-newest').addEventListener('click', () => { st.auditBefore = 0; refresh(); });
  $('a-older').addEventListener('click', () => { st.auditBefore = Number($('a-older').dataset.next); refresh(); });
  window.addEventListener('hashchange', refresh);
  refresh();
}

document.addEventListener('DOMContentLoaded', init);
