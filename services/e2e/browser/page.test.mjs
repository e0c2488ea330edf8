// The scan page and the pharmacy console in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), against the stack services/e2e/tests/page.rs started. Usage: node page.test.mjs scenario.json
//
// Everything is done as a pharmacist would: codes are typed as a keyboard-wedge scanner types them (keystrokes,
// Enter at the end), buttons are reached with Tab and pressed with Enter, the camera sees a rendered GS1 DataMatrix
// (Chromium's fake capture device). Each check prints one line; the first failure ends the run with exit code 1.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { writeY4m } from './datamatrix.mjs';

const require = createRequire(import.meta.url);
const scenario = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT = { timeout: 30_000 };

/** The colour each tone's card is drawn in (services/webui/assets/style.css). */
const TONES = { ok: [0x0b, 0x6b, 0x2f], info: [0x0b, 0x4f, 0x8a], stop: [0xa3, 0x12, 0x1e], alert: [0x7a, 0x0a, 0x12] };

let checks = 0;
function ok(what) {
  checks += 1;
  console.log(`ok   ${what}`);
}
function check(condition, what, detail = '') {
  if (!condition) throw new Error(`FAILED ${what}${detail ? `: ${detail}` : ''}`);
  ok(what);
}

// Chromium trusts the stack's server certificate by its key (and nothing else is exempted).
const spki = createHash('sha256')
  .update(new X509Certificate(readFileSync(scenario.serverCert)).publicKey.export({ type: 'spki', format: 'der' }))
  .digest('base64');

function launch(extra = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', `--ignore-certificate-errors-spki-list=${spki}`, ...extra],
  });
}

/** A page that records Content-Security-Policy violations and uncaught errors. */
async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

async function clean(page, where) {
  const csp = await page.evaluate(() => window.__csp);
  check(csp.length === 0 && page.errors.length === 0, `${where}: no CSP violation, no script error`,
    JSON.stringify({ csp, errors: page.errors }));
}

// ---- PNG (what Chromium's screenshots are: 8-bit RGB or RGBA, not interlaced) ----
function decodePng(buf) {
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      colorType = data[9];
      if (data[8] !== 8 || data[12] !== 0) throw new Error('unexpected PNG depth or interlace');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  if (!bpp) throw new Error(`unexpected PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[y * stride + x - bpp] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
      let v = raw[y * (stride + 1) + 1 + x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = v & 255;
    }
  }
  return { width, height, pixel: (x, y) => [...out.subarray(y * stride + x * bpp, y * stride + x * bpp + 3)] };
}

const near = (p, q) => p.every((v, i) => Math.abs(v - q[i]) <= 4);

/** The card's screenshot, saved, and checked: its left band is drawn in the tone's colour. */
async function screenshotCard(page, name, tone) {
  const png = await page.locator('#result article').screenshot();
  writeFileSync(join(scenario.screenshots, `${name}.png`), png);
  const img = decodePng(png);
  const band = img.pixel(6, Math.floor(img.height / 2));
  check(near(band, TONES[tone]), `${name}: the screenshot shows the ${tone} colour`, `${band} vs ${TONES[tone]}`);
}

async function axe(page, where) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(serious.length === 0, `${where}: axe-core finds no serious or critical violation (${result.violations.length} in all)`,
    JSON.stringify(serious.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target) }))));
}

/** Types a code as a wedge does (keystrokes, then Enter) and waits for the new card. */
async function wedgeScan(page, steps) {
  const before = await page.evaluate(() => document.querySelector('#result article')?.dataset.n ?? '');
  await page.evaluate(() => {
    const card = document.querySelector('#result article');
    if (card) card.dataset.n = 'old';
  });
  check(await page.evaluate(() => document.activeElement?.id === 'code'), 'the code field has the focus', before);
  for (const step of typeof steps === 'string' ? [steps] : steps) {
    if (step === 'CTRL+]') await page.keyboard.press('Control+BracketRight');
    else if (step === 'GS') await page.keyboard.insertText('\u001d');
    else await page.keyboard.type(step);
  }
  await page.keyboard.press('Enter');
  await page.waitForSelector('#result article:not([data-n="old"])', WAIT);
  return page.evaluate(() => {
    const card = document.querySelector('#result article');
    return { verdict: card.dataset.verdict, text: card.innerText, className: card.className };
  });
}

/** Presses a button with the keyboard only: Tab until it has the focus, then Enter. */
async function press(page, id) {
  for (let i = 0; i < 40; i++) {
    if (await page.evaluate((id) => document.activeElement?.id === id, id)) {
      await page.keyboard.press(id === 'batch-mode' ? 'Space' : 'Enter');
      return;
    }
    await page.keyboard.press('Tab');
  }
  throw new Error(`FAILED the keyboard never reached #${id}`);
}

/** The outcome lines after an action, once every line has its state. */
async function outcome(page) {
  await page.waitForSelector('#outcome p[data-state]', WAIT);
  return page.evaluate(() => [...document.querySelectorAll('#outcome p')].map((p) => ({ state: p.dataset.state, text: p.innerText })));
}

async function clearOutcome(page) {
  await page.evaluate(() => document.getElementById('outcome').replaceChildren());
}

async function anonymousPage(browser) {
  const page = await newPage(browser);
  const response = await page.goto(scenario.verifier + '/');
  const h = response.headers();
  check(h['content-security-policy']?.includes("script-src 'self' 'wasm-unsafe-eval'") &&
    h['content-security-policy'].includes("frame-ancestors 'none'"), 'the page is served with its Content-Security-Policy');
  check(h['x-content-type-options'] === 'nosniff' && h['x-frame-options'] === 'DENY' &&
    h['referrer-policy'] === 'no-referrer' && h['strict-transport-security']?.startsWith('max-age='),
  'and with nosniff, no framing, no referrer, HSTS');
  await page.waitForSelector('body[data-ready="scan"]', WAIT);
  check(await page.evaluate(() => document.activeElement?.id === 'code'), 'the code field has the focus on load');

  for (const row of scenario.verdicts) {
    const card = await wedgeScan(page, row.code);
    check(card.verdict === row.verdict && card.text.includes(row.text) && (!row.detail || card.text.includes(row.detail)),
      `${row.verdict}: the card says "${row.text}"`, card.text);
    check(card.className.includes(`tone-${row.tone}`) && /What to do: /.test(card.text), `${row.verdict}: ${row.tone} card with what to do`);
    check(!/\bHolder\b/.test(card.text), `${row.verdict}: an anonymous card names no holder`);
    await screenshotCard(page, `verdict-${row.verdict}`, row.tone);
    if (row.verdict === 'VERIFIED') await axe(page, 'scan page with a VERIFIED card');
    if (row.verdict === 'ILLEGITIMATE') await axe(page, 'scan page with an ILLEGITIMATE card');
    check(await page.evaluate(() => document.getElementById('code').value === ''), `${row.verdict}: the field is empty for the next scan`);
  }

  // What keyboard wedges type for V1's DataMatrix: with the ]d2 prefix and GS as Ctrl+], as ASCII 29, as a
  // substitute, and the Digital Link form. If a GS were lost, the lot would swallow the serial: no VERIFIED.
  const w = scenario.wedge;
  const forms = {
    ']d2 with GS as Ctrl+]': [`]d201${w.gtin}17${w.expiry}10${w.lot}`, 'CTRL+]', `21${w.serial}`],
    'GS as ASCII 29': [`01${w.gtin}17${w.expiry}10${w.lot}`, 'GS', `21${w.serial}`],
    'GS sent as {GS}': [`01${w.gtin}17${w.expiry}10${w.lot}{GS}21${w.serial}`],
    'GS sent as <GS>': [`01${w.gtin}17${w.expiry}10${w.lot}<GS>21${w.serial}`],
    'a Digital Link URL': [`https://id.gs1.org/01/${w.gtin}/10/${w.lot}/21/${w.serial}?17=${w.expiry}`],
  };
  for (const [name, steps] of Object.entries(forms)) {
    const card = await wedgeScan(page, steps);
    check(card.verdict === 'VERIFIED', `wedge scan, ${name}: VERIFIED`, card.text);
  }
  const lost = await wedgeScan(page, [`01${w.gtin}17${w.expiry}10${w.lot}21${w.serial}`]);
  check(lost.verdict !== 'VERIFIED', 'wedge scan with its GS lost: not verified', lost.verdict);
  await clean(page, 'scan page');
  await page.context().close();
}

async function phone(browser) {
  const page = await newPage(browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await page.goto(scenario.verifier + '/');
  await page.waitForSelector('body[data-ready="scan"]', WAIT);
  const card = await wedgeScan(page, scenario.verdicts.find((r) => r.verdict === 'RECALLED').code);
  check(card.verdict === 'RECALLED', 'phone-sized screen: the verdict is shown');
  const fits = await page.evaluate(() => {
    const box = document.querySelector('#result article').getBoundingClientRect();
    return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth, right: box.right };
  });
  // A mobile browser widens its layout viewport to fit content that overflows: compare with the screen itself.
  check(fits.scroll <= 360 && fits.inner <= 360 && fits.right <= 360, 'phone-sized screen: nothing wider than the screen (360 px)', JSON.stringify(fits));
  writeFileSync(join(scenario.screenshots, 'phone.png'), await page.screenshot({ fullPage: true }));
  await axe(page, 'phone-sized scan page');
  await clean(page, 'phone-sized scan page');
  await page.context().close();
}

async function camera() {
  const dir = mkdtempSync(join(tmpdir(), 'pedigree-camera-'));
  const y4m = join(dir, 'pack.y4m');
  await writeY4m(scenario.camera.element, y4m);
  const browser = await launch([
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m}`,
  ]);
  try {
    const page = await newPage(browser, { permissions: ['camera'] });
    await page.goto(scenario.verifier + '/');
    await page.waitForSelector('body[data-ready="scan"]', WAIT);
    await press(page, 'camera-btn');
    await page.waitForSelector('#result article', WAIT);
    const card = await page.evaluate(() => ({
      verdict: document.querySelector('#result article').dataset.verdict,
      detector: 'BarcodeDetector' in window,
      cameraHidden: document.getElementById('camera').hidden,
    }));
    check(card.verdict === scenario.camera.verdict,
      `camera: the DataMatrix seen by the camera is verified ${scenario.camera.verdict} (${card.detector ? 'BarcodeDetector' : 'vendored zxing-wasm'})`,
      JSON.stringify(card));
    check(card.cameraHidden, 'camera: stopped once the code was read');
    await clean(page, 'camera scan');
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function consoleFlow(browser) {
  const f = scenario.console_flow;
  const page = await newPage(browser);
  await page.goto(scenario.console);
  await page.waitForSelector('body[data-ready="console"]', WAIT);
  check((await page.textContent('#who')).includes(f.me), `console: signed in as ${f.me}`);
  check(await page.evaluate(() => location.hash === ''), 'console: the token is gone from the address bar');

  // A pack in transit to the pharmacy: receive it, dispense it, see "dispensed by you", undo.
  let card = await wedgeScan(page, f.receive_then_dispense);
  check(card.verdict === 'VERIFIED' && card.text.includes('In transit'), 'console: a pack in transit to me', card.text);
  await press(page, 'act-receive');
  let lines = await outcome(page);
  check(lines.length === 1 && lines[0].state === 'committed' && lines[0].text.includes('sealed at height'),
    'console: receive, sealed', JSON.stringify(lines));
  await page.waitForFunction(() => document.querySelector('#result article')?.innerText.includes('active'), null, WAIT);
  await clearOutcome(page);
  await press(page, 'act-dispense');
  lines = await outcome(page);
  check(lines[0].state === 'committed', 'console: dispense, sealed', JSON.stringify(lines));
  await page.waitForSelector('#result article[data-verdict="ALREADY_DISPENSED_BY_YOU"]', WAIT);
  check((await page.textContent('#result article')).includes('Dispensed by you'), 'console: the rescanned pack shows "Dispensed by you"');
  await screenshotCard(page, 'verdict-ALREADY_DISPENSED_BY_YOU', 'info');
  await clearOutcome(page);
  await press(page, 'act-undo');
  lines = await outcome(page);
  check(lines[0].state === 'committed', 'console: undo within 10 days, sealed', JSON.stringify(lines));
  await page.waitForSelector('#result article[data-verdict="VERIFIED"]', WAIT);
  await axe(page, 'console with its actions');
  writeFileSync(join(scenario.screenshots, 'console.png'), await page.screenshot({ fullPage: true }));

  // Decommission with a reason (received first).
  await clearOutcome(page);
  await wedgeScan(page, f.decommission);
  await press(page, 'act-receive');
  await outcome(page);
  await page.waitForFunction(() => document.querySelector('#result article')?.innerText.includes('active'), null, WAIT);
  await clearOutcome(page);
  await page.selectOption('#reason', 'sample');
  await press(page, 'act-decommission');
  lines = await outcome(page);
  check(lines[0].state === 'committed', 'console: decommission as sample, sealed', JSON.stringify(lines));
  await page.waitForSelector('#result article[data-verdict="DECOMMISSIONED"]', WAIT);
  check((await page.textContent('#result article')).includes('sample'), 'console: the card shows the reason');

  // A refusal is shown with the ledger's reason, and changes nothing.
  await clearOutcome(page);
  await wedgeScan(page, f.not_held);
  await press(page, 'act-dispense');
  lines = await outcome(page);
  check(lines[0].state === 'refused' && lines[0].text.includes('NOT_HOLDER'), 'console: dispensing a pack I do not hold is refused: NOT_HOLDER', JSON.stringify(lines));

  // Batch mode: scan many packs, then receive them all, then dispense them all.
  await clearOutcome(page);
  await page.focus('#code');
  await press(page, 'batch-mode');
  check(await page.isChecked('#batch-mode'), 'console: batch mode on (keyboard)');
  await page.focus('#code');
  for (const code of f.batch) await wedgeScan(page, code);
  check((await page.locator('#batch-list li').count()) === f.batch.length, `console: ${f.batch.length} packs in the batch`);
  await press(page, 'batch-receive');
  lines = await outcome(page);
  check(lines.length === 1 && lines[0].state === 'committed' && lines[0].text.includes(`receive ${f.batch.length} packs`),
    'console: receive all, one event, sealed', JSON.stringify(lines));
  check((await page.locator('#batch-list li').count()) === 0, 'console: the batch is emptied once done');
  await clearOutcome(page);
  await page.focus('#code');
  for (const code of f.batch) await wedgeScan(page, code);
  await press(page, 'batch-dispense');
  lines = await outcome(page);
  check(lines.length === 1 && lines[0].state === 'committed', 'console: dispense all, sealed', JSON.stringify(lines));
  await page.focus('#code');
  await press(page, 'batch-mode');
  await page.focus('#code');
  card = await wedgeScan(page, f.batch[1]);
  check(card.verdict === 'ALREADY_DISPENSED_BY_YOU', 'console: a pack of the batch shows dispensed by you');

  // A shipment received by scanning its SSCC label.
  await clearOutcome(page);
  card = await wedgeScan(page, f.sscc);
  check(card.verdict === 'SHIPMENT' && card.text.includes(f.sender) && card.text.includes('in transit to you'),
    'console: the SSCC label shows the shipment and its sender', card.text);
  await press(page, 'act-receive');
  lines = await outcome(page);
  check(lines[0].state === 'committed' && lines[0].text.includes(f.sscc), 'console: the shipment received by its SSCC, sealed', JSON.stringify(lines));
  await clean(page, 'console');
  await page.context().close();
}

async function consoleWithoutToken(browser) {
  const page = await newPage(browser);
  await page.goto(scenario.console.replace(/#.*$/, ''));
  await page.waitForSelector('body[data-ready="scan"]', WAIT);
  check((await page.textContent('#who')).includes('not signed in'), 'console without its token: not signed in, no actions');
  check(await page.locator('#actions').isHidden(), 'console without its token: the actions stay hidden');
  await page.context().close();
}

const started = Date.now();
const browser = await launch();
try {
  await anonymousPage(browser);
  await phone(browser);
  await consoleFlow(browser);
  await consoleWithoutToken(browser);
} finally {
  await browser.close();
}
await camera();
console.log(`browser checks passed: ${checks} checks in ${((Date.now() - started) / 1000).toFixed(1)} s`);
