// Code run by every subject, so islet and its peers do the same work.

export const COMPAT_DATE = "2026-11-01";

/** The "fresh sandbox" worker: one method, one string answer. */
export const GREET_SOURCE = "export default { greet(n) { return 'hi ' + n; } }";

export const greetCode = () => ({ compatibilityDate: COMPAT_DATE, mainModule: "w.js", modules: { "w.js": GREET_SOURCE } });

/** The worker README's example shows: a WorkerEntrypoint class importing cloudflare:workers. */
export const canonicalCode = () => ({
  compatibilityDate: COMPAT_DATE,
  mainModule: "w.js",
  modules: { "w.js": "import { WorkerEntrypoint } from 'cloudflare:workers';\nexport default class extends WorkerEntrypoint { greet(n) { return 'hi ' + n; } }" },
});

/** A live worker for RPC round trips: echo, and a loop awaiting a host callback n times. */
export const RPC_SOURCE = `export default {
  ping(x) { return x; },
  echo(s) { return s; },
  async callback(n, cb) { let acc = 0; for (let i = 0; i < n; i++) acc += await cb(i); return acc; },
  async relay(n, cb, s) { let length = 0; for (let i = 0; i < n; i++) length += (await cb(s)).length; return length; },
}`;

/** A live worker whose call makes one outbound fetch, answered by the host's globalOutbound. */
export const EGRESS_SOURCE = `export default {
  async get() { const response = await fetch("https://api.example/item"); return response.text(); },
}`;

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

export const COMPUTE_SOURCE = `${COMPUTE_FUNCTION}\nexport default { run(seed) { return compute(seed); } };`;
