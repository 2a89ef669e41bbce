// Nobody lost at the door, in real headless Chromium (playwright-core,
// Debian's /usr/bin/chromium). Started by tests/it/browser_door.rs, which
// runs the gateway and checks what this prints. Environment:
//   GATE          the gateway's base URL (http://127.0.0.1:PORT)
//   HASTY_GATE    a gateway whose time trap (limits.min_fill_seconds) is a minute
//   HOST_PORT     a free port for a host page whose origin is allowed
//   STRANGER_PORT a free port for a host page whose origin is not
//   SCREENSHOTS   folder for screenshots
//   CHROMIUM      the browser binary
// Prints `intake <id>` for each intake it stored and `held <id>` for each
// one the time trap held; exits 1 with a message on failure.

import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const GATE = process.env.GATE;
const HASTY_GATE = process.env.HASTY_GATE;
const HOST = `http://localhost:${process.env.HOST_PORT}`;
const STRANGER = `http://127.0.0.1:${process.env.STRANGER_PORT}`;
const SHOTS = process.env.SCREENSHOTS;
mkdirSync(SHOTS, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// A contact page with the one-line embed, as the README gives it; the
// timeout is short so the test need not wait the default 8 s.
const contactPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Contact</title>
<style>body{font-family:Georgia,serif;margin:0;background:#faf7f2;color:#222}main{max-width:760px;margin:2rem auto;padding:0 1rem}</style>
</head><body><main>
<h1>Contact</h1><p>Tell me where your funnel drops people.</p>
<div id="contact"><a href="${GATE}/">Ask about a broken handoff</a></div>
<script src="${GATE}/embed.js" data-target="#contact" data-timeout="2" async></script>
</main></body></html>`;

function serve(port) {
  const server = createServer((req, res) => {
    if (req.url.startsWith('/favicon')) { res.writeHead(204); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(contactPage);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const servers = [await serve(process.env.HOST_PORT), await serve(process.env.STRANGER_PORT)];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Every error response for a page's resources (a favicon 404 included);
// the form's own answer to a refused post is a page, not a resource.
function watchErrors(page) {
  const errors = [];
  page.on('response', (r) => {
    if (r.url().startsWith(GATE) && r.status() >= 400 && !r.url().endsWith('/intake')) errors.push(`${r.status()} ${r.url()}`);
  });
  return errors;
}

async function shootBoth(name, open) {
  for (const [label, viewport] of [['desktop', { width: 1280, height: 900 }], ['mobile', { width: 390, height: 844 }]]) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: label === 'mobile' ? 2 : 1, isMobile: label === 'mobile' });
    const page = await context.newPage();
    await open(page);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: viewport.width, height: Math.min(height, 8000) });
    await page.waitForTimeout(150);
    await page.screenshot({ path: `${SHOTS}/${name}-${label}.png`, fullPage: true });
    await context.close();
  }
}

async function run() {
  // 1. A site that is not allowed: the frame never says it is ready, so the
  //    link comes back and the console names the origin to add.
  const refusedContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const refused = await refusedContext.newPage();
  const consoleLines = [];
  refused.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  await refused.goto(`${STRANGER}/contact`);
  await refused.waitForSelector('#contact iframe', { state: 'attached', timeout: 5000 });
  await refused.waitForSelector('#contact > a', { timeout: 6000 });
  check(await refused.locator('#contact iframe').count() === 0, 'the broken frame is removed');
  const link = await refused.getAttribute('#contact > a', 'href');
  check(link === `${GATE}/`, `the fallback link is back: ${link}`);
  const named = consoleLines.filter((l) => l.includes('handoff-gate') && l.includes('embed.allowed_origins'));
  check(named.length === 1 && named[0].startsWith('error:') && named[0].includes(`"${STRANGER}"`),
    `one console line names the origin to add: ${consoleLines.join(' | ')}`);
  console.log(`fallback: ${named[0]}`);
  await refusedContext.close();
  await shootBoth('embed-fallback', async (page) => {
    await page.goto(`${STRANGER}/contact`);
    await page.waitForSelector('#contact > a', { timeout: 6000 });
  });

  // 2. An allowed site, reached from an ad: the address travels as data
  //    (utm_* only), nothing is prefilled, the optional sections stay closed.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${HOST}/contact?gclid=Cj0KCQiA4L67BhDUARIsADWrl7Ep9nT&utm_source=youtube&fbclid=IwAR2x9&utm_campaign=spring&email=jane%40acme.test`);
  const handle = await page.waitForSelector('#contact iframe', { timeout: 10000 });
  const frame = await handle.contentFrame();
  await frame.waitForSelector('textarea#message', { timeout: 10000 });
  const src = await handle.getAttribute('src');
  check(!/gclid|fbclid|jane|acme/.test(decodeURIComponent(src)), `no click id or other parameter leaves the page: ${src}`);
  const carried = await frame.getAttribute('input[name=page]', 'value');
  check(carried === `${HOST}/contact?utm_source=youtube&utm_campaign=spring`, `the page address is a hidden field: ${carried}`);
  check(await frame.inputValue('textarea#source_path') === '', '"where the path starts" is left to the person');
  check(await frame.locator('details[open]').count() === 0, 'the optional sections stay closed');
  await page.waitForTimeout(500);
  const height = await handle.evaluate((el) => el.getBoundingClientRect().height);
  check(height > 400 && height < 1400, `the widget is sized to the closed form: ${height}px`);
  await page.waitForTimeout(2500);
  check(await page.locator('#contact iframe').count() === 1, 'a ready frame is never replaced by the link');

  // 3. A refusal keeps the words: a bad reply address comes back with the
  //    question as typed (scrubbed) and says what to change.
  const question = 'Stripe checkout works but Kajabi never unlocks the course for new buyers.';
  await frame.fill('textarea#message', question);
  await frame.fill('#contact_email', 'owner.@mybiz.test');
  await frame.check('#consent');
  await frame.click('button[type=submit]');
  await frame.waitForSelector('#error-summary', { timeout: 10000 });
  check(await frame.inputValue('textarea#message') === question, 'the question is kept after a refusal');
  const summary = await frame.textContent('#error-summary');
  check(/the part before the @/.test(summary), `the summary says what to change: ${summary}`);
  check(await frame.inputValue('#contact_email') === 'owner.@mybiz.test', 'the typed address comes back to be corrected');
  await frame.fill('#contact_email', 'owner@mybiz.test');
  await frame.click('button[type=submit]');
  await frame.waitForSelector('text=Thanks, your question was received', { timeout: 10000 });
  const thanks = await frame.textContent('main');
  check(thanks.includes('What happens next') && !thanks.includes('Suggested next step') && !/systems_audit|no_fit/.test(thanks), `next step in words: ${thanks}`);
  check(thanks.includes('Alex Rivera reads every question and usually answers within two working days'), `who answers and when: ${thanks}`);
  check(thanks.includes('What Alex Rivera will read') && thanks.includes(question), `the copy of what the consultant reads: ${thanks}`);
  const id = frame.url().match(/\/embed\/thanks\/([0-9a-f-]{36})/);
  check(id, `thank-you URL: ${frame.url()}`);
  console.log(`intake ${id[1]}`);
  check(errors.length === 0, `no error responses (favicon included): ${errors.join(', ')}`);
  await context.close();

  // 4. The full-page thank-you at 1280 px and 390 px, with the copy and what was removed.
  await shootBoth('thanks-copy', async (p) => {
    const pageErrors = watchErrors(p);
    await p.goto(`${GATE}/`);
    await p.fill('textarea#message', 'Calendly bookings never move the HubSpot deal; my key is sk_live_4eC39HqLyjWDarjtT1zdp7dc');
    await p.click('button[type=submit]');
    await p.waitForSelector('#copy', { timeout: 10000 });
    const text = await p.textContent('#copy');
    check(text.includes('my key is [API_KEY]') && !text.includes('sk_live'), `the copy holds the placeholder: ${text}`);
    check(pageErrors.length === 0, `no error responses: ${pageErrors.join(', ')}`);
    console.log(`intake ${p.url().match(/\/thanks\/([0-9a-f-]{36})/)[1]}`);
  });

  // 5. Pasted and sent at once, sooner than the time trap allows: the
  //    person sees the normal thank-you (with the copy), and the intake is
  //    held for the consultant rather than dropped.
  await shootBoth('held-thanks', async (p) => {
    const pageErrors = watchErrors(p);
    await p.goto(`${HASTY_GATE}/`);
    await p.fill('textarea#message', 'Typeform answers never reach the HubSpot contact, since Monday.');
    await p.click('button[type=submit]');
    await p.waitForSelector('text=Thanks, your question was received', { timeout: 10000 });
    const text = await p.textContent('main');
    check(text.includes('What happens next') && text.includes('Typeform answers never reach the HubSpot contact'),
      `the held sender gets the normal thank-you with the copy: ${text}`);
    check(!/bot|held|spam/i.test(text), `nothing tells them they were taken for a bot: ${text}`);
    check(pageErrors.length === 0, `no error responses: ${pageErrors.join(', ')}`);
    console.log(`held ${p.url().match(/\/thanks\/([0-9a-f-]{36})/)[1]}`);
  });
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
