// The cheap common path of a sandbox fetch: URLs a sandbox fetches again skip the host's parser,
// and a fetch without a signal gets no host-side AbortController. Neither may change what the
// sandbox or globalOutbound observe.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkerLoader } from "islet";
import { js } from "../helpers.ts";

const seen: { url: string; aborted: boolean }[] = [];
const loader = new WorkerLoader({
  globalOutbound: (request: Request) => {
    seen.push({ url: request.url, aborted: request.signal.aborted });
    return new Response(request.url);
  },
});
test.after(() => loader.close());

const run = (source: string) => (loader.load(js(source)).getEntrypoint() as any).run();

test("a URL fetched again is normalised the same way as the first time, and an invalid one fails every time", async () => {
  seen.length = 0;
  const result = await run(`export default { async run() {
    const out = [];
    for (let i = 0; i < 3; i++) out.push(await (await fetch("HTTPS://API.Example:443/a/../b?q=1")).text());
    for (let i = 0; i < 2; i++) {
      try { new Request("http://exa mple.com/"); out.push("accepted"); } catch (e) { out.push(e.name); }
    }
    out.push(new Request("https://api.example/b?q=1").url);
    return out;
  } };`);
  assert.deepEqual(result, ["https://api.example/b?q=1", "https://api.example/b?q=1", "https://api.example/b?q=1", "TypeError", "TypeError", "https://api.example/b?q=1"]);
  assert.deepEqual(
    seen.map((entry) => entry.url),
    ["https://api.example/b?q=1", "https://api.example/b?q=1", "https://api.example/b?q=1"],
  );
});

test("more distinct URLs than the parse cache holds all resolve correctly, and credentials are still refused", async () => {
  const result = await run(`export default { async run() {
    const urls = [];
    for (let round = 0; round < 2; round++) for (let i = 0; i < 150; i++) urls.push(new Request("https://h" + i + ".example/p/./" + i).url);
    let credentials;
    for (let i = 0; i < 2; i++) { try { new Request("https://user:pw@h1.example/"); } catch (e) { credentials = e.name; } }
    return [urls.length, urls[0], urls[149], urls[150], urls[299], credentials];
  } };`);
  assert.deepEqual(result, [300, "https://h0.example/p/0", "https://h149.example/p/149", "https://h0.example/p/0", "https://h149.example/p/149", "TypeError"]);
});

test("a fetch without a signal reaches globalOutbound with a live, unaborted signal; with a signal it can still be aborted", async () => {
  seen.length = 0;
  const result = await run(`export default { async run() {
    const plain = await (await fetch("https://plain.example/")).text();
    const withSignal = await (await fetch("https://signal.example/", { signal: new AbortController().signal })).text();
    const controller = new AbortController();
    controller.abort();
    let aborted;
    try { await fetch("https://aborted.example/", { signal: controller.signal }); } catch (e) { aborted = e.name; }
    return [plain, withSignal, aborted];
  } };`);
  assert.deepEqual(result, ["https://plain.example/", "https://signal.example/", "AbortError"]);
  // An already aborted signal rejects in the sandbox before anything reaches the host.
  assert.deepEqual(seen, [
    { url: "https://plain.example/", aborted: false },
    { url: "https://signal.example/", aborted: false },
  ]);
});

test("the runtime's entry function and boot are not reachable from sandbox code", async () => {
  const result = await run(`export default { run() {
    return ["boot", "setEnv", "dispatch", "receiveChunk", "settle"].filter((name) => name in globalThis);
  } };`);
  assert.deepEqual(result, []);
});
