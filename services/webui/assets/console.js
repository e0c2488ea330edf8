// The pharmacy console's side of the page (`pedigree console --as ID` serves it): scans are verified as the
// pharmacy, and the scanned pack, shipment or batch can be dispensed, undone, decommissioned or received. Each action
// waits until the ledger seals or refuses it, and says which.
//
// The console prints its address with a token after '#token='. The fragment never leaves the browser: the page keeps
// the token for this tab (sessionStorage), removes it from the address bar and sends it as a bearer token to the
// console's API only (same origin; the API answers no cross-origin request).
import { cardForAnswer, el, problemCard, shipmentCard, verdictCard } from './card.js';
import { printable } from './wedge.js';

const TOKEN_KEY = 'pedigree-console-token';

function takeToken() {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The console if this page is served by one (else null: the verifier's plain scan page). */
export async function connectConsole({ show, input }) {
  const token = takeToken();
  let response;
  try {
    response = await fetch('/console/api/session', {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      cache: 'no-store',
    });
  } catch {
    return null;
  }
  if (response.status === 404) return null;
  const who = document.getElementById('who');
  if (!response.ok) {
    who.textContent =
      'Pharmacy console: not signed in. Open the address `pedigree console` printed (it ends with #token=…).';
    who.classList.add('warn');
    return null;
  }
  const session = await response.json();
  who.textContent = `Pharmacy console, signed in as ${session.participant}. Scans are verified as your pharmacy.`;
  return new Console(token, session, { show, input });
}

class Console {
  constructor(token, session, { show, input }) {
    this.token = token;
    this.session = session;
    this.show = show;
    this.input = input;
    this.current = null; // what was scanned last: { kind: 'pack', answer } or { kind: 'container', shipment }
    this.batch = []; // packs: { gtin, serial, from, verdict }
    this.outcome = document.getElementById('outcome');
    this.actions = document.getElementById('actions');
    this.batchBox = document.getElementById('batch');
    this.batchBox.hidden = false;
    this.wire();
  }

  async call(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
    let json = null;
    try {
      json = await response.json();
    } catch {
      json = null;
    }
    return { response, json };
  }

  /** Verifies a scan as the pharmacy; returns the card to show. */
  async scan(code) {
    this.lastCode = code;
    let reply;
    try {
      reply = await this.call('/console/api/scan', { code });
    } catch {
      this.current = null;
      this.renderActions();
      return problemCard('no-answer', 'The console could not be reached.');
    }
    const { response, json } = reply;
    if (response.ok && json?.kind === 'container') {
      this.current = { kind: 'container', shipment: json };
      this.renderActions();
      return shipmentCard(json);
    }
    if (response.ok && json?.verdict) {
      this.current = { kind: 'pack', answer: json };
      if (document.getElementById('batch-mode').checked) this.addToBatch(json);
      this.renderActions();
      return verdictCard(json);
    }
    this.current = null;
    this.renderActions();
    return cardForAnswer(response.status, json);
  }

  renderActions() {
    const c = this.current;
    this.actions.hidden = !c;
    if (!c) return;
    const pack = c.kind === 'pack';
    const target = document.getElementById('actions-target');
    if (pack) {
      target.textContent = `Pack ${c.answer.gtin} / ${printable(c.answer.serial)}`;
    } else {
      target.textContent = `Shipment ${c.shipment.sscc}`;
    }
    for (const id of ['act-dispense', 'act-undo', 'act-decommission', 'batch-add', 'reason']) {
      document.getElementById(id).disabled = !pack;
    }
    const receivable = pack ? c.answer.status === 'IN_TRANSIT' : Boolean(c.shipment.sender);
    document.getElementById('act-receive').disabled = !receivable;
  }

  addToBatch(answer) {
    if (this.batch.some((p) => p.gtin === answer.gtin && p.serial === answer.serial)) return;
    this.batch.push({ gtin: answer.gtin, serial: answer.serial, from: answer.holder, verdict: answer.verdict });
    this.renderBatch();
  }

  renderBatch() {
    const list = document.getElementById('batch-list');
    list.replaceChildren(
      ...this.batch.map((p) => el('li', {}, `${p.gtin} / ${printable(p.serial)}: ${p.verdict}`)),
    );
    const n = this.batch.length;
    document.getElementById('batch-count').textContent =
      n === 0 ? 'The batch is empty.' : `${n} pack${n === 1 ? '' : 's'} in the batch.`;
  }

  /** Sends an action, waits for the ledger's outcomes, shows them, then rescans the current pack. */
  async act(body, what) {
    this.outcome.replaceChildren(el('p', {}, `${what}: sending and waiting for the ledger…`));
    let reply;
    try {
      reply = await this.call('/console/api/act', body);
    } catch {
      this.outcome.replaceChildren(el('p', { class: 'refused' }, `${what}: the console could not be reached.`));
      return false;
    }
    const { response, json } = reply;
    if (!response.ok) {
      this.outcome.replaceChildren(
        el('p', { class: 'refused' }, `${what}: not sent: ${json?.error ?? `the console answered ${response.status}`}`),
      );
      return false;
    }
    const lines = json.outcomes.map((o) =>
      el(
        'p',
        { class: o.committed ? 'committed' : 'refused', 'data-state': o.committed ? 'committed' : 'refused' },
        o.committed ? `${o.what}: done, sealed at height ${o.height}.` : `${o.what}: refused: ${o.text}`,
      ),
    );
    this.outcome.replaceChildren(...lines);
    return json.outcomes.every((o) => o.committed);
  }

  async refresh() {
    const c = this.current;
    // The code as it was scanned (lot and expiry included), verified again: what the ledger says now.
    if (c?.kind === 'pack' && this.lastCode) {
      this.show(await this.scan(this.lastCode));
    }
  }

  wire() {
    const on = (id, f) =>
      document.getElementById(id).addEventListener('click', async () => {
        await f();
        this.input.focus();
      });
    const pack = () => {
      const a = this.current.answer;
      return { gtin: a.gtin, serial: a.serial, from: a.holder };
    };
    on('act-dispense', async () => {
      await this.act({ action: 'dispense', packs: [pack()] }, 'Dispense');
      await this.refresh();
    });
    on('act-undo', async () => {
      await this.act({ action: 'undo', packs: [pack()] }, 'Undo');
      await this.refresh();
    });
    on('act-decommission', async () => {
      const reason = document.getElementById('reason').value;
      await this.act({ action: 'decommission', reason, packs: [pack()] }, 'Decommission');
      await this.refresh();
    });
    on('act-receive', async () => {
      const c = this.current;
      if (c.kind === 'container') {
        const body = { action: 'receive', containers: [{ sscc: c.shipment.sscc, from: c.shipment.sender }] };
        await this.act(body, 'Receive');
      } else {
        await this.act({ action: 'receive', packs: [pack()] }, 'Receive');
        await this.refresh();
      }
    });
    on('batch-add', async () => this.addToBatch(this.current.answer));
    on('batch-clear', async () => {
      this.batch = [];
      this.renderBatch();
    });
    on('batch-dispense', async () => {
      if (this.batch.length === 0) return;
      if (await this.act({ action: 'dispense', packs: this.batch }, `Dispense ${this.batch.length}`)) {
        this.batch = [];
        this.renderBatch();
      }
    });
    on('batch-receive', async () => {
      if (this.batch.length === 0) return;
      if (await this.act({ action: 'receive', packs: this.batch }, `Receive ${this.batch.length}`)) {
        this.batch = [];
        this.renderBatch();
      }
    });
  }
}
