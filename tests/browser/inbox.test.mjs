// The consultant's inbox in real headless Chromium (playwright-core,
// Debian's /usr/bin/chromium, axe-core). Started by tests/it/browser_inbox.rs,
// which runs the gateway with a few intakes stored and checks the store
// against what this prints. Environment:
//   GATE        the gateway's base URL (http://127.0.0.1:PORT)
//   PASSWORD    the inbox password
//   CORRECT     the id of the intake to correct (a YouTube comment)
//   ERASE       the id of the intake to erase
//   HELD        the id of a held intake to release (optional)
//   SCREENSHOTS folder for screenshots
//   CHROMIUM    the browser binary
// Prints `corrected <id>`, `erased <id>`, `released <id>`, `csv <rows>`,
// `jsonl <lines>`; exits 1 with a message on failure.

import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const GATE = process.env.GATE;
const SHOTS = process.env.SCREENSHOTS;
const { PASSWORD, CORRECT, ERASE, HELD } = process.env;
mkdirSync(SHOTS, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Every error response and CSP report for the gateway's own resources.
function watch(page) {
  const problems = [];
  page.on('response', (r) => {
    if (r.url().startsWith(GATE) && r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  return problems;
}

// axe-core on the page as it stands (CSP bypassed in that context only to inject axe).
async function axe(page, label) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe (${label}): ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; ')}`);
  console.log(`axe ${label}: ${result.violations.length} minor violation(s), none serious or critical`);
}

// A full-page screenshot of `path` at 1280 px and 390 px, signed in.
async function shootBoth(name, path, storageState) {
  for (const [label, viewport] of [['desktop', { width: 1280, height: 900 }], ['mobile', { width: 390, height: 844 }]]) {
    const context = await browser.newContext({ viewport, storageState, deviceScaleFactor: label === 'mobile' ? 2 : 1, isMobile: label === 'mobile' });
    const page = await context.newPage();
    await page.goto(`${GATE}${path}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 1, `${name} at ${viewport.width} px scrolls sideways by ${overflow} px`);
    await page.screenshot({ path: `${SHOTS}/${name}-${label}.png`, fullPage: true });
    await context.close();
  }
}

async function download(page, linkText) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(`text=${linkText}`)]);
  return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
}

async function run() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: false });
  const page = await context.newPage();
  const problems = watch(page);

  // Sign in: the queue sends a stranger to the sign-in page, which brings
  // them back afterwards; a wrong password says so.
  await page.goto(`${GATE}/inbox?status=new`);
  check(page.url().startsWith(`${GATE}/inbox/login?next=`), `redirected to sign in: ${page.url()}`);
  await page.fill('#password', 'not the password');
  await page.click('button[type=submit]');
  await page.waitForSelector('#problem');
  check(await page.getAttribute('#password', 'aria-invalid') === 'true', 'the field is marked invalid');
  problems.length = 0; // the 401 above is the answer expected
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('h1:has-text("Queue")');
  check(page.url() === `${GATE}/inbox?status=new`, `back where they were going: ${page.url()}`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'hg_inbox');
  check(session && session.httpOnly && session.sameSite === 'Strict', `session cookie: ${JSON.stringify(session)}`);

  // Filter: the tabs and the search.
  await page.click('nav[aria-label=Route] a:has-text("Any route")');
  await page.click('nav[aria-label=Status] a:has-text("All")');
  const all = await page.locator('table.queue tbody tr').count();
  check(all === 5, `five intakes listed: ${all}`);
  await page.fill('#q', 'kajabi');
  await page.click('form.search button');
  await page.waitForURL(/q=kajabi/);
  const found = await page.locator('table.queue tbody tr').count();
  check(found === 1, `the search finds one: ${found}`);
  check((await page.textContent('table.queue')).includes('Kajabi'), 'the row found mentions Kajabi');
  await page.goto(`${GATE}/inbox`);

  // Open an intake from the queue and correct its route and handoffs.
  await page.click(`a[href="/inbox/${CORRECT}"]`);
  await page.waitForSelector('h2#decision');
  check((await page.textContent('section[aria-labelledby=question]')).includes('where do i start'), 'the question is shown');
  await page.check('#route-checklist');
  await page.check('#handoff-form_to_crm');
  await page.click('form.label-form button[type=submit]');
  await page.waitForSelector('[role=status]:has-text("Correction saved")');
  const decision = await page.textContent('section[aria-labelledby=decision]');
  check(decision.includes('Corrected by Alex Rivera'), `the correction is shown beside the model's: ${decision}`);
  console.log(`corrected ${CORRECT}`);
  await page.goto(`${GATE}/inbox?route=checklist`);
  check((await page.textContent('table.queue')).includes('corrected from'), 'the queue files it under its new route');

  // Release a held intake (it is then mailed).
  if (HELD) {
    await page.goto(`${GATE}/inbox?status=held`);
    check(await page.locator('table.queue tbody tr').count() === 1, 'the Held tab lists the held intake');
    await page.click(`a[href="/inbox/${HELD}"]`);
    await page.click('button:has-text("Release to the mail")');
    await page.waitForSelector('[role=status]:has-text("Released")');
    check(!(await page.textContent('.meta')).includes('Held'), 'no longer held');
    console.log(`released ${HELD}`);
  }

  // Erase one: the box must be ticked first.
  await page.goto(`${GATE}/inbox/${ERASE}`);
  await page.check('#confirm');
  await page.click('button:has-text("Erase this intake")');
  await page.waitForSelector('[role=status]:has-text("was erased")');
  check(page.url() === `${GATE}/inbox`, `back to the queue: ${page.url()}`);
  check(await page.locator(`a[href="/inbox/${ERASE}"]`).count() === 0, 'the erased intake is gone from the queue');
  console.log(`erased ${ERASE}`);

  // Export both formats, from the links on the queue.
  const csv = await download(page, 'Download this view as CSV');
  check(csv.name.endsWith('.csv'), `a .csv file: ${csv.name}`);
  const csvLines = csv.text.trim().split('\n');
  check(csvLines[0].startsWith('id,received_utc,status'), `the CSV header: ${csvLines[0]}`);
  check(!csv.text.includes(ERASE), 'the erased intake is not exported');
  console.log(`csv ${csvLines.length - 1}`);
  const jsonl = await download(page, 'Download the confirmed and corrected intakes');
  check(jsonl.name.endsWith('.jsonl'), `a .jsonl file: ${jsonl.name}`);
  const labelled = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
  check(labelled.length === 1 && labelled[0].id === `inbox-${CORRECT}` && labelled[0].expected.route === 'checklist',
    `the labelled line: ${jsonl.text}`);
  console.log(`jsonl ${labelled.length}`);
  check(problems.length === 0, `no error responses or console errors: ${problems.join(', ')}`);

  // Screenshots of the queue and an intake at 1280 px and 390 px.
  const storageState = await context.storageState();
  await shootBoth('inbox-queue', '/inbox', storageState);
  await shootBoth('inbox-intake', `/inbox/${CORRECT}`, storageState);

  // Accessibility: the sign-in page, the queue and an intake.
  const audit = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 }, storageState });
  const auditPage = await audit.newPage();
  for (const [path, label] of [['/inbox', 'queue'], ['/inbox?q=nothing-matches-this', 'empty queue'], [`/inbox/${CORRECT}`, 'intake']]) {
    await auditPage.goto(`${GATE}${path}`);
    await axe(auditPage, label);
  }
  const stranger = await browser.newContext({ bypassCSP: true });
  const loginPage = await stranger.newPage();
  await loginPage.goto(`${GATE}/inbox/login`);
  await axe(loginPage, 'sign-in');
  await stranger.close();
  await audit.close();

  // Keyboard: Tab from the top reaches the search, the tabs and the first intake.
  await page.goto(`${GATE}/inbox`);
  const reached = new Set();
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.getAttribute('href') || ''));
  }
  check(reached.has('q') && reached.has(`/inbox/${CORRECT}`), `Tab reaches the search and the intakes: ${[...reached].join(' ')}`);

  // Sign out: the queue is closed again, even to a copy of the old cookie.
  await page.click('button:has-text("Sign out")');
  await page.waitForSelector('[role=status]:has-text("You are signed out")');
  await page.goto(`${GATE}/inbox`);
  check(page.url().startsWith(`${GATE}/inbox/login`), `signed out: ${page.url()}`);
  const copy = await browser.newContext({ storageState });
  const copied = await copy.newPage();
  await copied.goto(`${GATE}/inbox`);
  check(copied.url().startsWith(`${GATE}/inbox/login`), `an old cookie is refused: ${copied.url()}`);
  await copy.close();
  await context.close();
}

let failed = false;
try {
  await run();
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.message}`);
}
await browser.close();
process.exit(failed ? 1 : 0);
