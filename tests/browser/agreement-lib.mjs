// Browser/server agreement (used by embed.test.mjs): the form's live warning
// runs the server's scrubber compiled to WebAssembly, so on every record the
// browser must report exactly the server's findings: the same kinds at the
// same string (UTF-16) offsets, in the same order. Reports name record ids
// and kinds, never record texts.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every record of every `*.jsonl` file in `dir`, files in name order. */
export function loadCorpus(dir) {
  const records = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(join(dir, name), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        records.push(JSON.parse(line));
      } catch (e) {
        throw new Error(`${name}:${i + 1}: not JSON (${e.message})`);
      }
    });
  }
  return records;
}

/** Findings `[{kind, start, end, …}]` as comparable `kind@start-end` strings. */
function spans(findings) {
  return (findings || []).map((f) => `${f.kind}@${f.start}-${f.end}`);
}

/**
 * Compare server and browser findings record by record. The maps take a
 * record id to its findings; a missing entry counts as no findings.
 */
export function compare(records, serverFindingsById, browserFindingsById) {
  const get = (map, id) => (map instanceof Map ? map.get(id) : map[id]) || [];
  let agree = 0;
  let withFindings = 0;
  const disagreements = [];
  for (const record of records) {
    const server = spans(get(serverFindingsById, record.id));
    const browser = spans(get(browserFindingsById, record.id));
    if (server.length) withFindings += 1;
    if (server.join(' ') === browser.join(' ')) {
      agree += 1;
    } else {
      disagreements.push({ id: record.id, server, browser });
    }
  }
  const total = records.length;
  return { total, agree, withFindings, rate: total === 0 ? 1 : agree / total, disagreements };
}
