// Issue 17's method: a fresh worker's sample is load + first RPC + dispose, the dispose inside the
// timed region ("it is what a user pays per request"), and its worker is the canonical one.

import { test } from "node:test";
import assert from "node:assert/strict";
import { timeFreshCall } from "../../bench/islet.ts";
import { canonicalCode, CANONICAL_SOURCE, greetCode } from "../../bench/fixtures.ts";

const spin = (ms: number) => {
  for (const end = performance.now() + ms; performance.now() < end; );
};

test("timeFreshCall times the dispose too", async () => {
  const loads: unknown[] = [];
  const loader = {
    load(code: unknown) {
      loads.push(code);
      return { getEntrypoint: () => ({ greet: async (n: string) => "hi " + n }), dispose: () => spin(30) };
    },
  };
  const elapsed = await timeFreshCall(loader as any, canonicalCode());
  assert.ok(elapsed >= 30, `${elapsed} ms: the 30 ms dispose is inside the sample`);
  assert.equal(loads.length, 1);
});

test("the headline fixture is README's canonical worker; the plain one has no import", () => {
  assert.equal(canonicalCode().modules["w.js"], CANONICAL_SOURCE);
  assert.match(CANONICAL_SOURCE, /^import \{ WorkerEntrypoint \} from 'cloudflare:workers';\nexport default class extends WorkerEntrypoint \{/);
  assert.doesNotMatch(greetCode().modules["w.js"], /import/);
});
