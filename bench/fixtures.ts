// Code run by every subject, so islet and its peers do the same work. Issue 17's method: the
// canonical worker (README's WorkerEntrypoint class importing cloudflare:workers) is the fixture
// of every headline scenario; the plain object worker stays as an extra row where it tells what
// the import and the class cost.

export const COMPAT_DATE = "2026-11-01";

const WORKER_ENTRYPOINT = "import { WorkerEntrypoint } from 'cloudflare:workers';";

/** A worker module from its methods: the canonical class form, or the plain object form. */
const worker = (methods: string, canonical: boolean) =>
  canonical ? `${WORKER_ENTRYPOINT}\nexport default class extends WorkerEntrypoint {\n${methods}\n}` : `export default {\n${methods.replace(/\n(?=\s*(async )?\w+\()/g, ",\n")}\n}`;

const GREET_METHODS = "  greet(n) { return 'hi ' + n; }";

/** The plain worker: one method, one string answer, no import (also the bare isolated-vm floor's and quickjs's module). */
export const GREET_SOURCE = worker(GREET_METHODS, false);

/** The canonical worker's module text (README's example). */
export const CANONICAL_SOURCE = worker(GREET_METHODS, true);

export const greetCode = () => ({ compatibilityDate: COMPAT_DATE, mainModule: "w.js", modules: { "w.js": GREET_SOURCE } });

/** The worker README's example shows: a WorkerEntrypoint class importing cloudflare:workers. */
export const canonicalCode = () => ({ compatibilityDate: COMPAT_DATE, mainModule: "w.js", modules: { "w.js": CANONICAL_SOURCE } });

export type WorkerCode = ReturnType<typeof greetCode>;

const RPC_METHODS = `  ping(x) { return x; }
  echo(s) { return s; }
  async callback(n, cb) { let acc = 0; for (let i = 0; i < n; i++) acc += await cb(i); return acc; }
  async relay(n, cb, s) { let length = 0; for (let i = 0; i < n; i++) length += (await cb(s)).length; return length; }`;

/** A live worker for RPC round trips: echo, and a loop awaiting a host callback n times (plain object form). */
export const RPC_SOURCE = worker(RPC_METHODS, false);

/** The same methods on the canonical WorkerEntrypoint class. */
export const RPC_CANONICAL_SOURCE = worker(RPC_METHODS, true);

/** A live canonical worker whose call makes one outbound fetch, answered by the host's globalOutbound. */
export const EGRESS_SOURCE = worker(`  async get() { const response = await fetch("https://api.example/item"); return response.text(); }`, true);

/**
 * CPU-bound work, the same function text everywhere: JSON parse/stringify of a ~100 KB object,
 * a regex over a string, sorting 100k numbers. Returns a checksum so nothing is optimised away.
 */
export const COMPUTE_FUNCTION = `function compute(seed) {
  let x = seed | 0 || 1;
  const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const items = [];
  for (let i = 0; i < 1000; i++) items.push({ id: i, name: "item-" + i, tags: ["a" + (i % 7), "b" + (i % 13)], score: rand(), nested: { ok: i % 2 === 0, v: [i, i * 2, i * 3] } });
  let sum = 0;
  for (let k = 0; k < 5; k++) {
    const text = JSON.stringify(items);
    sum += text.length;
    sum += JSON.parse(text).length;
  }
  const words = [];
  for (let i = 0; i < 20000; i++) words.push("w" + i.toString(36) + (i % 5 === 0 ? "@ex.com" : ""));
  const hay = words.join(" ");
  const re = /\\bw([0-9a-z]+)@ex\\.com\\b/g;
  let m;
  while ((m = re.exec(hay)) !== null) sum += m[1].length;
  const nums = new Array(100000);
  for (let i = 0; i < nums.length; i++) nums[i] = rand();
  nums.sort((a, b) => a - b);
  sum += Math.floor(nums[50000] * 1000);
  return sum;
}`;

/** The compute workload on the canonical worker. */
export const COMPUTE_SOURCE = `${worker("  run(seed) { return compute(seed); }", true)}\n${COMPUTE_FUNCTION}`;
