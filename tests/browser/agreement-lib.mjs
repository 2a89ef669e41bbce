// Shared pieces of the browser/server agreement check (tests/browser/agreement.mjs).
//
// A record is compared when it holds at least one credential or payment
// value. Server and browser agree on it when both flag it or neither does; a
// verdict flags when it has a finding of a credential or payment kind, or an
// account_export. Reports name ids and kinds, never record texts.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const CREDENTIAL_KINDS = ['api_key', 'jwt', 'private_key', 'password', 'auth_url', 'webhook_url'];
export const PAYMENT_KINDS = ['card', 'cvv', 'iban', 'bank_account'];

/** Whether `kind` is a credential or payment kind. */
export function credentialOrPayment(kind) {
  return CREDENTIAL_KINDS.includes(kind) || PAYMENT_KINDS.includes(kind);
}

/** Whether findings `[{kind, …}]` flag a record. */
export function flags(findings) {
  return (findings || []).some((f) => credentialOrPayment(f.kind) || f.kind === 'account_export');
}

/** Every record of every `*.jsonl` file in `dir`, files in name order. */
export function loadCorpus(dir = '/work/shared/corpora/peer/') {
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

/** Whether a record holds a credential or payment value (the compared set). */
export function compared(record) {
  return (record.sensitive || []).some((s) => credentialOrPayment(s.kind));
}

function kinds(findings) {
  return [...new Set((findings || []).map((f) => f.kind))].sort();
}

/**
 * Compare server and browser verdicts on the records that hold a credential
 * or payment value. The maps take a record id to its findings `[{kind, …}]`;
 * a missing entry counts as no findings.
 */
export function compare(records, serverFindingsById, browserFindingsById) {
  const get = (map, id) => (map instanceof Map ? map.get(id) : map[id]) || [];
  let total = 0;
  let agree = 0;
  const disagreements = [];
  for (const record of records.filter(compared)) {
    total += 1;
    const server = get(serverFindingsById, record.id);
    const browser = get(browserFindingsById, record.id);
    if (flags(server) === flags(browser)) {
      agree += 1;
    } else {
      disagreements.push({ id: record.id, server: kinds(server), browser: kinds(browser) });
    }
  }
  return { total, agree, rate: total === 0 ? 1 : agree / total, disagreements };
}
