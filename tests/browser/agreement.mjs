// Browser/server agreement: run the peer corpus through the server's
// scrubber (`handoff-gate redact --jsonl`) and through assets/detect.js, and
// check they flag the same records (see agreement-lib.mjs).
//
//   node tests/browser/agreement.mjs [rules.json] [server.jsonl] [--debug]
//
// rules.json: browser rules (default: `handoff-gate rules browser`).
// server.jsonl: saved `redact --jsonl` output (default: run the binary).
// --debug (or HANDOFF_DEBUG=1): also print each disagreement's text, cut to
// 60 characters, and the detector ids the browser used.
// Exit status 1 when fewer than 99% of the compared records agree.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { compare, compared, flags, loadCorpus } from './agreement-lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BINARY = join(ROOT, 'target', 'debug', 'handoff-gate');
const CORPUS = '/work/shared/corpora/peer/';
const THRESHOLD = 0.99;

const args = process.argv.slice(2);
const debug = args.includes('--debug') || process.env.HANDOFF_DEBUG === '1';
const [rulesPath, serverPath] = args.filter((a) => !a.startsWith('--'));

const detect = createRequire(import.meta.url)(join(ROOT, 'assets', 'detect.js'));
const rules = JSON.parse(
  rulesPath ? readFileSync(rulesPath, 'utf8') : execFileSync(BINARY, ['rules', 'browser'], { encoding: 'utf8' }),
);
if (rules.skipped && rules.skipped.length) {
  console.log(`rules: ${rules.skipped.length} rows skipped by the export: ${rules.skipped.map((s) => s.id).join(', ')}`);
}

const records = loadCorpus(CORPUS);
const subject = records.filter(compared);

/** Server findings by id, from a saved file or by running the scrubber. */
function serverFindings() {
  const output = serverPath
    ? readFileSync(serverPath, 'utf8')
    : execFileSync(BINARY, ['redact', '--jsonl'], {
        input: subject.map((r) => JSON.stringify({ id: r.id, text: r.text })).join('\n') + '\n',
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      });
  const byId = new Map();
  for (const line of output.split('\n')) {
    if (!line.trim()) continue;
    const result = JSON.parse(line);
    if (result.error) throw new Error(`redact --jsonl: line ${result.line}: ${result.error}`);
    byId.set(result.id, result.findings || []);
  }
  const missing = subject.filter((r) => !byId.has(r.id));
  if (missing.length) throw new Error(`no server result for ${missing.length} records (first: ${missing[0].id})`);
  return byId;
}

const server = serverFindings();
const compiled = detect.compile(rules);
if (compiled.skipped && compiled.skipped.length) {
  console.log(`detect.js skipped: ${compiled.skipped.map((s) => `${s.id} (${s.reason})`).join(', ')}`);
}
const browser = new Map();
const started = process.hrtime.bigint();
for (const record of subject) browser.set(record.id, detect.detect(compiled, record.text));
const millis = Number(process.hrtime.bigint() - started) / 1e6;

const result = compare(records, server, browser);
const short = (text) => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
const byId = new Map(subject.map((r) => [r.id, r]));
for (const d of result.disagreements) {
  const flagged = flags(server.get(d.id)) ? 'flagged by the server only' : 'flagged by the browser only';
  console.log(`disagree ${d.id}: server [${d.server.join(', ')}] browser [${d.browser.join(', ')}]`);
  if (debug) {
    const ids = (browser.get(d.id) || []).map((f) => f.id);
    console.log(`  text ${short(byId.get(d.id).text)} browser ids [${ids.join(', ')}] (${flagged})`);
  }
}
console.log(
  `agreement: ${result.agree}/${result.total} records (${(100 * result.rate).toFixed(2)}%), ` +
    `${result.disagreements.length} disagreements; detect.js took ${millis.toFixed(0)} ms`,
);
process.exitCode = result.rate < THRESHOLD ? 1 : 0;
