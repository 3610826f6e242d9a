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
