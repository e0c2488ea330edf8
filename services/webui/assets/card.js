// The result card: what a pharmacist reads at a glance after a scan. Built with DOM calls and textContent only
// (nothing the verifier or the scan says is ever parsed as HTML).
import { ICONS, NO_ANSWER, REASONS, UNREADABLE, expiryText, wording } from './verdicts.js';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function head(words, code) {
  return el(
    'div',
    { class: 'card-head' },
    el('span', { class: 'icon', 'aria-hidden': 'true' }, ICONS[words.tone]),
    el('div', {}, el('h2', { id: 'card-title' }, words.headline), el('p', { class: 'verdict-code' }, code)),
  );
}

function row(list, term, ...values) {
  list.append(el('dt', {}, term), el('dd', {}, ...values));
}

/** "LOT1" as scanned, and what the ledger records when the caller may see it. */
function scannedAndRecorded(scanned, recorded, show = (v) => v) {
  const parts = [];
  parts.push(scanned ? `${show(scanned)} (scanned)` : 'not in the scan');
  if (recorded) {
    const same = scanned === recorded;
    parts.push(same ? ' · matches the ledger' : ` · ledger: ${show(recorded)}`);
  }
  return parts.join('');
}

function product(p) {
  if (!p) return 'Product not registered on the ledger';
  // A name often carries its strength already ("Paracetamol 500 mg"): not said twice.
  const strength = p.strength && !p.name.includes(p.strength) ? p.strength : '';
  const bits = [p.name, strength, p.dosage_form].filter(Boolean).join(' ');
  return p.pack_size ? `${bits}, pack of ${p.pack_size}` : bits;
}

/** The card for a verifier's answer (the JSON of GET /v1/verify). */
export function verdictCard(answer, { byYou = false } = {}) {
  const words = wording(answer.verdict);
  const card = el('article', {
    class: `card tone-${words.tone}`,
    'data-verdict': answer.verdict ?? '',
    'aria-labelledby': 'card-title',
  });
  card.append(head(words, `Verdict: ${answer.verdict}`));
  card.append(el('p', { class: 'product' }, product(answer.product)));
  const facts = el('dl', { class: 'facts' });
  row(facts, 'GTIN', answer.gtin ?? '');
  row(facts, 'Serial', answer.serial ?? '');
  row(facts, 'Lot', scannedAndRecorded(answer.lot, answer.recorded_lot));
  row(facts, 'Expiry', scannedAndRecorded(answer.expiry, answer.recorded_expiry, expiryText));
  row(facts, 'Pack status', (answer.status ?? '').replace('_', ' ').toLowerCase());
  if (answer.decommission_reason) row(facts, 'Reason', REASONS[answer.decommission_reason] ?? answer.decommission_reason);
  if (answer.holder) row(facts, 'Holder', answer.holder);
  if (answer.container) row(facts, 'In container', answer.container);
  card.append(facts);
  const advice = el('p', { class: 'advice' }, el('strong', {}, 'What to do: '), words.advice);
  card.append(advice);
  if (answer.verdict === 'VERIFIED' && answer.status === 'IN_TRANSIT') {
    card.append(
      el('p', { class: 'note' }, 'In transit: receive the pack before you dispense it (the ledger refuses it until then).'),
    );
  }
  if (answer.alert_id) {
    card.append(
      el('p', { class: 'alert-id' }, 'Alert id: ', el('code', {}, answer.alert_id), ' (quote it to the product owner).'),
    );
  }
  if (byYou) card.dataset.byYou = 'true';
  return card;
}

/** The card when there is no verdict: `kind` 'unreadable' (HTTP 400, `message` names the field) or 'no-answer'. */
export function problemCard(kind, message) {
  const words = kind === 'unreadable' ? UNREADABLE : NO_ANSWER;
  const card = el('article', {
    class: `card tone-${words.tone}`,
    'data-verdict': kind === 'unreadable' ? 'UNREADABLE' : 'NO_ANSWER',
    'aria-labelledby': 'card-title',
  });
  card.append(head(words, kind === 'unreadable' ? 'No verdict' : 'No verdict: try again'));
  if (message) card.append(el('p', { class: 'detail' }, message));
  card.append(el('p', { class: 'advice' }, el('strong', {}, 'What to do: '), words.advice));
  return card;
}

/** The card for a scanned shipment label (SSCC), in the console. */
export function shipmentCard(s) {
  const words = { tone: 'info', headline: `Shipment ${s.sscc}` };
  const card = el('article', { class: 'card tone-info', 'data-verdict': 'SHIPMENT', 'aria-labelledby': 'card-title' });
  card.append(head(words, 'Logistic unit (SSCC)'));
  const facts = el('dl', { class: 'facts' });
  row(facts, 'SSCC', s.sscc);
  row(facts, 'From', s.sender || 'not shipped to you');
  row(facts, 'Status', s.status ?? '');
  card.append(facts);
  return card;
}

/** The card for a verifier's (or the console's) answer to a scan. */
export async function cardFor(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return cardForAnswer(response.status, body);
}

/** The card for an answer already read: its HTTP status and JSON body (null when it had none). */
export function cardForAnswer(status, body) {
  if (status >= 200 && status < 300 && body && body.verdict) return verdictCard(body);
  if (status === 400 && body) return problemCard('unreadable', body.error ?? '');
  if (status === 429) return problemCard('no-answer', 'Too many scans from here just now.');
  return problemCard('no-answer', body?.error ?? `The verifier answered ${status}.`);
}

export { el };
