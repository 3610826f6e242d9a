import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startIslet } from "./process.ts";

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting until ${what}`);
}

test("islet dev serves the worker's fetch, keeps module state, reloads on change and survives a broken file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "islet-dev-"));
  const file = join(dir, "worker.ts");
  writeFileSync(join(dir, "greeting.ts"), `export const greeting: string = "hello";`);
  writeFileSync(
    file,
    `import { greeting } from "./greeting.ts";
     let hits = 0;
     export default { async fetch(request: Request, env: { WHO: string }) {
       console.log("hit", ++hits);
       return new Response(greeting + " " + env.WHO + " " + new URL(request.url).pathname + " #" + hits + " " + (request.method === "POST" ? await request.text() : ""));
     } };`,
  );
  const islet = startIslet(["dev", file, "--port", "0", "--env", '{"WHO":"dev"}']);
  try {
    const [, url] = await islet.waitFor(/serving .*worker\.ts at (http:\/\/127\.0\.0\.1:\d+)/);
    const get = async (path = "/") => {
      const response = await fetch(url + path);
      return { status: response.status, text: await response.text() };
    };
    assert.deepEqual(await get("/a"), { status: 200, text: "hello dev /a #1 " });
    assert.deepEqual(await get("/b"), { status: 200, text: "hello dev /b #2 " });
    const posted = await fetch(url + "/p", { method: "POST", body: "body!" });
    assert.equal(await posted.text(), "hello dev /p #3 body!");
    await islet.waitFor(/\[log\] hit 3/);
    await islet.waitFor(/GET \/a 200 [\d.]+ ms/);

    // A change to an imported module reloads the worker (module state starts over).
    writeFileSync(join(dir, "greeting.ts"), `export const greeting: string = "bonjour";`);
    await until(async () => (await get("/c")).text.startsWith("bonjour"), "the import change is served");
    await islet.waitFor(/reloaded .*greeting\.ts changed/);

    writeFileSync(file, `export default { fetch() { return new Response("broken" } };`);
    await until(async () => (await get()).status === 500, "the broken file is reported");
    const broken = await get();
    assert.match(broken.text, /the worker does not build:[\s\S]*worker\.ts:1:\d+: Expected/);
    await islet.waitFor(/still serving; fix the file and it reloads/);

    writeFileSync(file, `export default { fetch() { throw new RangeError("in the handler"); } };`);
    await until(async () => (await get()).text.includes("RangeError: in the handler"), "a throwing handler is a 500 with its error");
    assert.equal((await get()).status, 500);

    writeFileSync(file, `export default { fetch() { return new Response("fixed"); } };`);
    await until(async () => (await get()).text === "fixed", "the fixed file is served");
  } finally {
    await islet.stop();
  }
});

test("islet dev needs a file and says so; a missing file is named", async () => {
  const none = startIslet(["dev"]);
  assert.equal(await none.exited, 1);
  assert.match(none.stderr(), /dev needs a file: islet dev <file>/);
  const missing = startIslet(["dev", "nope/worker.ts", "--port", "0"]);
  try {
    await missing.waitFor(/cannot read .*nope\/worker\.ts: no such file/);
  } finally {
    await missing.stop();
  }
});

test("islet dev --config reads outbound.credentials from the environment; --allow-host adds the list; each fetch is printed with its decision", async () => {
  const { createServer } = await import("node:http");
  const seen: (string | undefined)[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.end("from upstream");
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(upstream.address() as import("node:net").AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), "islet-dev-outbound-"));
  writeFileSync(join(dir, "islet.json"), JSON.stringify({ outbound: { credentials: { [host]: { headers: { authorization: "Bearer ${DEV_TOKEN}" } } } } }));
  const file = join(dir, "worker.js");
  writeFileSync(file, `export default { async fetch(request) { const target = new URL(request.url).searchParams.get("to"); try { return new Response(await (await fetch(target)).text()); } catch (e) { return new Response(e.message, { status: 502 }); } } };`);
  const islet = startIslet(["dev", file, "--port", "0", "--config", join(dir, "islet.json"), "--allow-host", host], { DEV_TOKEN: "dev-secret" });
  try {
    const [, url] = await islet.waitFor(/serving .*worker\.js at (http:\/\/127\.0\.0\.1:\d+)/);
    const ok = await fetch(`${url}/?to=${encodeURIComponent(`http://${host}/x`)}`);
    assert.equal(await ok.text(), "from upstream");
    assert.deepEqual(seen, ["Bearer dev-secret"]);
    await islet.waitFor(new RegExp(`\\[fetch\\] GET http://${host.replace(/\./g, "\\.")}/x allowed, credentials added → 200`));
    const refused = await fetch(`${url}/?to=${encodeURIComponent("http://other.example/")}`);
    assert.equal(refused.status, 502);
    assert.match(await refused.text(), /not on this worker's allow-list/);
    await islet.waitFor(/\[fetch\] GET http:\/\/other\.example\/ denied by allowHosts/);
    assert.ok(!islet.stderr().includes("dev-secret"));
  } finally {
    await islet.stop();
    upstream.close();
  }
});
