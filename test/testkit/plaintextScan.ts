import { appendFileSync } from "node:fs";
import type { TestDatabase } from "./database.ts";
import type { Transit } from "../../server/src/transit/Transit.ts";

/**
 * The whole-suite plaintext scan (issue 9). Every test app records, at the transit port,
 * each value it stored (the `values` of a secret version, the `value` of a sealed OAuth
 * token, client secret or webhook key) and each ciphertext it got back. When the app is
 * closed, the scan looks for them where they must never be:
 *  - values: every log line, every GraphQL response except the three that hand out values
 *    by design (resolveSecrets; createWebhookSubscription's one-time signing secret;
 *    beginTotpEnrollment's one-time TOTP seed, to its own user), and
 *    every row of every table of the file's database (events included) read as text;
 *  - ciphertexts: every log line, every GraphQL response and every event.
 * Values shorter than MIN_LENGTH are too common to search for (e.g. "1"); they are counted.
 */
const MIN_LENGTH = 6;
const DISCLOSING = /\b(resolveSecrets|createWebhookSubscription|beginTotpEnrollment)\b/;

export type ScanSummary = {
  values: number;
  tooShort: number;
  ciphertexts: number;
  logLines: number;
  responses: number;
  rows: number;
  hits: string[];
};

export function recordingTransit(inner: Transit) {
  const values = new Set<string>();
  const ciphertexts = new Set<string>();
  const collect = (plaintext: Buffer) => {
    try {
      const doc = JSON.parse(plaintext.toString("utf8")) as { values?: unknown; value?: unknown };
      if (typeof doc.value === "string") values.add(doc.value);
      if (doc.values && typeof doc.values === "object")
        for (const v of Object.values(doc.values)) if (typeof v === "string") values.add(v);
    } catch {
      values.add(plaintext.toString("utf8")); // not a Coffer payload: the whole plaintext
    }
  };
  const transit: Transit = new Proxy(inner, {
    get(target, prop: keyof Transit) {
      const member = target[prop];
      if (prop === "encrypt")
        return async (name: string, plaintexts: readonly Buffer[]) => {
          plaintexts.forEach(collect);
          const result = await target.encrypt(name, plaintexts);
          result.forEach((c) => ciphertexts.add(c));
          return result;
        };
      if (prop === "rewrap")
        return async (name: string, input: readonly string[]) => {
          const result = await target.rewrap(name, input);
          result.forEach((c) => ciphertexts.add(c));
          return result;
        };
      return typeof member === "function" ? member.bind(target) : member;
    },
  });
  return { transit, values, ciphertexts };
}

export async function scanForPlaintext(input: {
  database: TestDatabase;
  values: ReadonlySet<string>;
  ciphertexts: ReadonlySet<string>;
  logs: readonly string[];
  exchanges: readonly { query: string; raw: string }[];
}): Promise<ScanSummary> {
  const values = [...input.values].filter((v) => v.length >= MIN_LENGTH);
  const ciphertexts = [...input.ciphertexts];
  const hits: string[] = [];
  const search = (where: string, text: string, needles: string[], what: string) => {
    for (const needle of needles)
      if (text.includes(needle))
        hits.push(`${what} ${JSON.stringify(needle.slice(0, 12))}… in ${where}`);
  };

  const logs = input.logs.join("\n");
  search("the logs", logs, values, "stored value");
  search("the logs", logs, ciphertexts, "ciphertext");
  const responses = input.exchanges.map((e) => e.raw).join("\n");
  search("GraphQL responses", responses, ciphertexts, "ciphertext");
  const ordinary = input.exchanges
    .filter((e) => !DISCLOSING.test(e.query))
    .map((e) => e.raw)
    .join("\n");
  search("GraphQL responses", ordinary, values, "stored value");

  const tables = await input.database.admin<{ name: string }>(
    `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'`,
  );
  let rows = 0;
  for (const { name } of tables) {
    const found = await input.database.admin<{ row: string }>(
      `SELECT t::text AS row FROM ${name} t`,
    );
    rows += found.length;
    const text = found.map((r) => r.row).join("\n");
    search(`table ${name}`, text, values, "stored value");
    if (name === "events") search("the events", text, ciphertexts, "ciphertext");
  }
  return {
    values: values.length,
    tooShort: input.values.size - values.length,
    ciphertexts: ciphertexts.length,
    logLines: input.logs.length,
    responses: input.exchanges.length,
    rows,
    hits,
  };
}

/** One line per test app, summed up by the global teardown. */
export function reportScan(file: string, summary: ScanSummary) {
  appendFileSync(file, JSON.stringify(summary) + "\n");
}
