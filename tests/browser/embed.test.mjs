// The embed widget in real headless Chromium (playwright-core, Debian's
// /usr/bin/chromium). Started by tests/it/browser.rs, which runs the gateway
// and reads what this prints. Environment:
//   GATE             the gateway's base URL (http://127.0.0.1:PORT)
//   HOST_PORT        a free port for the allowed host page (a second origin)
//   STRANGER_PORT    a free port for a host page that is not allowed
//   SCREENSHOTS      folder for screenshots
//   CORPUS           the peer corpora folder (optional: agreement is skipped without it)
//   SERVER_FINDINGS  JSON file {record id: [{kind, start, end}]} from the server's scrubber
//                    (string offsets: UTF-16 code units)
// Prints `intake <id>` for the intake it submitted; exits 1 with a message on failure.

import { createServer } from 'node:http';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { compare, loadCorpus } from './agreement-lib.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const GATE = process.env.GATE;
// "localhost" and 127.0.0.1 are different origins; a raw IP in the page address would be scrubbed as [IP].
const HOST = `http://localhost:${process.env.HOST_PORT}`;
const STRANGER = `http://127.0.0.1:${process.env.STRANGER_PORT}`;
const SHOTS = process.env.SCREENSHOTS;
mkdirSync(SHOTS, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// The allowed host: a contact page like deploy/examples/contact.html.
const contactPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Contact — Handoff Repairs</title>
<style>body{font-family:Georgia,serif;margin:0;background:#faf7f2;color:#222}header{background:#1b3a4b;color:#fff;padding:1rem 2rem}main{max-width:760px;margin:2rem auto;padding:0 1rem}</style>
</head><body><header><strong>Handoff Repairs</strong></header><main>
<h1>Contact</h1><p>Tell me where your funnel drops people.</p>
<div id="contact"><a href="${GATE}/">Ask about a broken handoff</a></div>
<script src="${GATE}/embed.js" data-target="#contact" data-accent="#1b3a4b" data-font="Georgia, serif" data-theme="light" async></script>
</main></body></html>`;
const strangerPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not allowed</title></head>
<body><iframe id="framed" src="${GATE}/embed" title="framed" width="600" height="400"></iframe></body></html>`;

function serve(port, html) {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const servers = [await serve(process.env.HOST_PORT, contactPage), await serve(process.env.STRANGER_PORT, strangerPage)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function widget(page) {
  const handle = await page.waitForSelector('#contact iframe', { timeout: 10000 });
  const frame = await handle.contentFrame();
  await frame.waitForSelector('textarea#message', { timeout: 10000 });
  return { handle, frame };
}

// Chromium paints a cross-origin iframe only inside the viewport, so a
// full-page shot of the host page needs a viewport as tall as the page.
async function shoot(page, path) {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: page.viewportSize().width, height: Math.min(height, 8000) });
  await page.waitForTimeout(150);
  await page.screenshot({ path, fullPage: true });
  await page.setViewportSize({ width: page.viewportSize().width, height: 900 });
}

async function iframeHeight(handle) {
  return handle.evaluate((el) => el.getBoundingClientRect().height);
}

async function waitForHeightChange(handle, before) {
  for (let i = 0; i < 50; i++) {
    const now = await iframeHeight(handle);
    if (Math.abs(now - before) > 20) return now;
    await new Promise((r) => setTimeout(r, 100));
  }
  return iframeHeight(handle);
}

async function axe(context, url, label) {
  const page = await context.newPage();
  await page.goto(url);
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe (${label}): ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} node(s) ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
  console.log(`axe ${label}: ${result.violations.length} minor violation(s), none serious or critical`);
  await page.close();
}

// Console messages about the Content-Security-Policy (the module must load under it).
const cspViolations = [];

async function run() {
  // Desktop: the whole journey inside the widget.
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await desktop.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`console ${m.type()}: ${m.text()}`);
    if (/Content.Security.Policy|wasm-unsafe-eval/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.goto(`${HOST}/`);
  const { handle, frame } = await widget(page);
  const src = await handle.getAttribute('src');
  check(src.includes('page=' + encodeURIComponent(`${HOST}/`)), `the host page address is passed: ${src}`);
  const accent = await frame.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim());
  check(accent === '#1b3a4b', `data-accent themes the form: ${accent}`);
  await page.waitForTimeout(300);
  check((await iframeHeight(handle)) > 600, 'the iframe is sized to its content');
  await shoot(page, `${SHOTS}/form-desktop.png`);

  // Pasting a live key is flagged before sending, and can be removed.
  await frame.fill('textarea#message', 'Stripe checkout works but Kajabi never unlocks the course. Our key is sk_live_4eC39HqLyjWDarjtT1zdp7dc');
  console.log('step: typing a live key');
  const warning = await frame.waitForSelector('#message-warning', { timeout: 5000 });
  const warningText = await warning.textContent();
  check(/API key/.test(warningText), `the warning names the key: ${warningText}`);
  await shoot(page, `${SHOTS}/warning-desktop.png`);
  await frame.click('#message-warning button');
  const cleaned = await frame.inputValue('textarea#message');
  check(cleaned.endsWith('Our key is [API_KEY]') && !cleaned.includes('sk_live'), `removed on request: ${cleaned}`);

  // An error state: a bad reply address. The iframe grows to show the errors.
  const before = await iframeHeight(handle);
  await frame.fill('#contact_email', 'not an address');
  await frame.click('button[type=submit]');
  await frame.waitForSelector('#error-summary', { timeout: 10000 });
  const focused = await frame.evaluate(() => document.activeElement && document.activeElement.id);
  check(focused === 'error-summary', `the error summary takes focus: ${focused}`);
  const after = await waitForHeightChange(handle, before);
  check(after > before + 20, `the iframe resized when errors appeared: ${before} → ${after}`);
  await shoot(page, `${SHOTS}/error-desktop.png`);

  // Fix it and send: the thank-you view, with what was removed.
  await frame.fill('#contact_email', 'owner@mybiz.test');
  await frame.check('#consent');
  await frame.fill('textarea#message', 'Stripe checkout works but Kajabi never unlocks the course. Our key is sk_live_4eC39HqLyjWDarjtT1zdp7dc');
  await frame.click('button[type=submit]');
  await frame.waitForSelector('text=Thanks, your question was received', { timeout: 10000 });
  const thanks = await frame.textContent('main');
  check(/API key/.test(thanks) && /rotate/.test(thanks), `the thank-you view names the removed key: ${thanks}`);
  check(!thanks.includes('sk_live'), 'the key is not echoed');
  const id = frame.url().match(/\/embed\/thanks\/([0-9a-f-]{36})/);
  check(id, `thank-you URL: ${frame.url()}`);
  console.log(`intake ${id[1]}`);
  const shorter = await waitForHeightChange(handle, after);
  check(shorter < after - 20, `the iframe shrank to the thank-you view: ${after} → ${shorter}`);
  await shoot(page, `${SHOTS}/thanks-desktop.png`);

  // A site that is not allowed cannot frame the form.
  const strangerPageTab = await desktop.newPage();
  await strangerPageTab.goto(`${STRANGER}/`);
  await strangerPageTab.waitForTimeout(1000);
  const framed = strangerPageTab.frames().find((f) => f !== strangerPageTab.mainFrame());
  let formCount = 0;
  try {
    formCount = framed ? await framed.locator('form').count() : 0;
  } catch {
    formCount = 0;
  }
  check(formCount === 0, 'a disallowed origin framed the form');
  console.log('a disallowed origin cannot frame /embed');

  // Mobile: the full page at 390 px, the same three states.
  const mobile = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
  const phone = await mobile.newPage();
  await phone.goto(`${GATE}/`);
  await phone.screenshot({ path: `${SHOTS}/form-mobile.png`, fullPage: true });
  await phone.fill('textarea#message', 'Calendly booking never moves the HubSpot deal');
  await phone.fill('#contact_email', 'nope');
  await phone.click('button[type=submit]');
  await phone.waitForSelector('#error-summary');
  await phone.screenshot({ path: `${SHOTS}/error-mobile.png`, fullPage: true });
  await phone.fill('#contact_email', '');
  await phone.click('button[type=submit]');
  await phone.waitForSelector('text=Thanks, your question was received');
  await phone.screenshot({ path: `${SHOTS}/thanks-mobile.png`, fullPage: true });
  const mobileThanks = phone.url();

  // Accessibility: axe-core in each state (CSP bypassed only to inject axe).
  const audit = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  await axe(audit, `${GATE}/`, 'form');
  await axe(audit, `${GATE}/embed?theme=dark`, 'embedded form, dark');
  await axe(audit, mobileThanks, 'thank-you page');
  const errorPage = await audit.newPage();
  await errorPage.goto(`${GATE}/`);
  await errorPage.fill('#contact_email', 'nope');
  await errorPage.click('button[type=submit]');
  await errorPage.waitForSelector('#error-summary');
  await errorPage.addScriptTag({ content: AXE });
  const errors = await errorPage.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = errors.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe (error state): ${bad.map((v) => v.id).join(', ')}`);
  console.log('axe error state: none serious or critical');

  // Keyboard: Tab from the top reaches the message field and the submit button.
  const keys = await desktop.newPage();
  await keys.goto(`${GATE}/`);
  const reached = new Set();
  for (let i = 0; i < 40; i++) {
    await keys.keyboard.press('Tab');
    reached.add(await keys.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.tagName)));
  }
  check(reached.has('message') && reached.has('BUTTON') && !reached.has('website'), `keyboard reach: ${[...reached].join(', ')}`);
  console.log('keyboard: every field and the button are reachable; the honeypot is not');

  // The live warning runs the server's scrubber (WebAssembly): on every
  // corpus record it finds exactly what the server finds.
  if (process.env.CORPUS && existsSync(process.env.CORPUS)) {
    const records = loadCorpus(process.env.CORPUS);
    const server = JSON.parse(readFileSync(process.env.SERVER_FINDINGS, 'utf8'));
    const probe = await desktop.newPage();
    probe.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text()); });
    await probe.goto(`${GATE}/embed`);
    await probe.waitForFunction(() => window.HandoffGateDetect);
    const started = Date.now();
    const browserFindings = await probe.evaluate(async (items) => {
      const detect = await window.HandoffGateDetect.ready();
      const out = {};
      for (const r of items) out[r.id] = detect.detect(r.text);
      return out;
    }, records.map((r) => ({ id: r.id, text: r.text })));
    const millis = Date.now() - started;
    const result = compare(records, server, browserFindings);
    console.log(`agreement ${result.agree}/${result.total} records (${(100 * result.rate).toFixed(2)}%), ` +
      `${result.withFindings} with findings; the WebAssembly scrubber took ${millis} ms`);
    for (const d of result.disagreements.slice(0, 20)) {
      console.log(`  disagree ${d.id}: server [${d.server.join(', ')}] browser [${d.browser.join(', ')}]`);
    }
    check(result.total > 0 && result.agree === result.total,
      `browser and server findings differ on ${result.disagreements.length} of ${result.total} records`);
  } else {
    console.log('SKIPPED agreement: the peer corpora are not at CORPUS');
  }
  check(cspViolations.length === 0, `Content-Security-Policy violations: ${cspViolations.join('; ')}`);
}

let failed = false;
try {
  await run();
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.message}`);
}
await browser.close();
servers.forEach((s) => s.close());
process.exit(failed ? 1 : 0);
