// The parent worker run inside workerd. Its LOADER binding is workerd's Worker Loader.
// workerd freezes clocks during execution; they advance across awaited I/O (each RPC), so a batch
// of loads timed with performance.now() is exact to the timer's 1 ms granularity: batches of
// `per` loads give per-load means.

// The canonical worker (README's WorkerEntrypoint class importing cloudflare:workers, issue 17's
// fixture) and the plain object worker, as bench/fixtures.ts has them.
const GREET = "export default { greet(n) { return 'hi ' + n; } }";
const CANONICAL = "import { WorkerEntrypoint } from 'cloudflare:workers';\nexport default class extends WorkerEntrypoint { greet(n) { return 'hi ' + n; } }";
const codeOf = (source) => () => ({ compatibilityDate: "2026-11-01", mainModule: "w.js", modules: { "w.js": source } });
const code = codeOf(CANONICAL);
const plainCode = codeOf(GREET);
const kept = [];

const EGRESS = 'import { WorkerEntrypoint } from "cloudflare:workers";\nexport default class extends WorkerEntrypoint { async get() { const r = await fetch("https://api.example/item"); return r.text(); } }';

// workerd's Worker Loader has no dispose() for a loaded worker: workerd lets go of its isolate when
// the stub is dropped, on its own schedule, so this loop cannot time a teardown (islet's can).
async function freshOnce(env, make = code) {
  const w = env.LOADER.load(make());
  const r = await w.getEntrypoint().greet("x");
  if (r !== "hi x") throw new Error("unexpected answer " + r);
}

export default {
  async fetch(req, env) {
    const u = new URL(req.url);
    const q = (k, d) => Number(u.searchParams.get(k) ?? d);
    if (u.pathname === "/ping") return new Response("ok");
    if (u.pathname === "/fresh") {
      const batches = q("batches", 1), per = q("per", 10), out = [];
      const make = q("plain", 0) ? plainCode : code;
      for (let b = 0; b < batches; b++) {
        const t0 = performance.now();
        for (let i = 0; i < per; i++) await freshOnce(env, make);
        out.push((performance.now() - t0) / per);
      }
      return Response.json(out);
    }
    if (u.pathname === "/throughput") {
      const c = q("c", 1), ms = q("ms", 1000);
      let done = 0;
      const start = performance.now(), end = start + ms;
      const loop = async () => { while (performance.now() < end) { await freshOnce(env); done++; } };
      await Promise.all(Array.from({ length: c }, loop));
      return Response.json({ perSecond: done / ((performance.now() - start) / 1000) });
    }
    if (u.pathname === "/egress") {
      // The same call as islet's egress scenario; the fetch is answered by the OUTBOUND service.
      const w = env.LOADER.get("egress", () => ({ compatibilityDate: "2026-11-01", mainModule: "w.js", modules: { "w.js": EGRESS }, globalOutbound: env.OUTBOUND }));
      const ep = w.getEntrypoint();
      if ((await ep.get("x")) !== "ok") throw new Error("unexpected egress answer");
      const batches = q("batches", 1), per = q("per", 10), out = [];
      for (let b = 0; b < batches; b++) {
        const t0 = performance.now();
        for (let i = 0; i < per; i++) await ep.get("x");
        out.push(((performance.now() - t0) / per) * 1000);
      }
      return Response.json(out);
    }
    if (u.pathname === "/keep") {
      const from = q("from", 0), to = q("to", 0);
      for (let i = from; i < to; i++) {
        const w = env.LOADER.get("w" + i, code);
        const ep = w.getEntrypoint();
        await ep.greet("x");
        kept.push(w);
      }
      return Response.json({ live: kept.length });
    }
    return new Response("not found", { status: 404 });
  },
};
