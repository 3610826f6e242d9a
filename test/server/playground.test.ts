// The playground end to end: the real server (startServer on port 0) and the page in real headless
// Chromium. Every request the page makes is watched; anything not for the server fails the test.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startServer, type RunningServer } from "../../src/server/index.ts";
import { playgroundCsp } from "../../src/server/playground/index.ts";

const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH)`;

interface Watched {
  page: Page;
  context: BrowserContext;
  /** URLs the page asked for that are not the server's. */
  foreign: string[];
  /** Paths of requests to the server, in order. */
  requests: string[];
  /** Uncaught page errors and console errors (CSP violations are reported there). */
  problems: string[];
}

async function openPlayground(browser: Browser, server: RunningServer): Promise<Watched> {
  const context = await browser.newContext();
  const origin = new URL(server.url).origin;
  const watched: Watched = { page: undefined as unknown as Page, context, foreign: [], requests: [], problems: [] };
  // Only the server is reachable: anything else is recorded and refused before it leaves.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    watched.foreign.push(url);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  watched.page = page;
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin === origin) watched.requests.push(`${request.method()} ${url.pathname}`);
  });
  page.on("pageerror", (error) => watched.problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // Chromium logs every 4xx answer to fetch as a console error; those are expected where tested.
    if (message.type() === "error" && !/status of 4\d\d/.test(message.text())) watched.problems.push(`console: ${message.text()}`);
  });
  await page.goto(`${server.url}/`);
  await page.waitForSelector("#editor .CodeMirror");
  return watched;
}

/** The page's document, as far as the tests read it (the test tsconfig has no DOM lib; the CSP allows no string eval). */
interface PageGlobals {
  document: { getElementById(id: string): { textContent: string | null } | null };
}

async function runAndWait(page: Page): Promise<string> {
  await page.click("#run");
  await page.waitForSelector("#status.ok, #status.error");
  return (await page.textContent("#status")) ?? "";
}

describe("playground", { skip }, () => {
  let server: RunningServer;
  let browser: Browser;
  let watched: Watched;
  let memoryDir: string;

  before(async () => {
    memoryDir = mkdtempSync(join(os.tmpdir(), "islet-playground-"));
    // Code mode needs a tool source: the reference MCP memory server, over stdio.
    const codemode = {
      servers: {
        memory: {
          command: process.execPath,
          args: [fileURLToPath(new URL("../../node_modules/@modelcontextprotocol/server-memory/dist/index.js", import.meta.url))],
          env: { MEMORY_FILE_PATH: join(memoryDir, "memory.json") },
        },
      },
    };
    [server, browser] = await Promise.all([
      startServer({ port: 0, log: false, codemode }),
      chromium.launch({
        executablePath: chromiumPath,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      }),
    ]);
    watched = await openPlayground(browser, server);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(memoryDir, { recursive: true, force: true });
  });

  it("is served with a strict CSP, the right content types and only its own assets", async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(page.headers.get("content-security-policy"), playgroundCsp);
    assert.doesNotMatch(playgroundCsp, /https?:|\*|unsafe/);
    const html = await page.text();
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "no remote scripts or styles");
    for (const [path, type] of [
      ["/playground/app.js", "text/javascript; charset=utf-8"],
      ["/playground/app.css", "text/css; charset=utf-8"],
    ]) {
      const asset = await fetch(`${server.url}${path}`);
      assert.equal(asset.status, 200, path);
      assert.equal(asset.headers.get("content-type"), type, path);
      assert.equal(asset.headers.get("x-content-type-options"), "nosniff");
      const again = await fetch(`${server.url}${path}`, { headers: { "if-none-match": asset.headers.get("etag")! } });
      assert.equal(again.status, 304, `${path} answers a matching If-None-Match with 304`);
      await asset.arrayBuffer();
    }
    const editorCode = await (await fetch(`${server.url}/playground/app.js`)).text();
    assert.match(editorCode, /CodeMirror/, "the editor is bundled into app.js");
  });

  it("runs an example and shows its result, logs and CPU/wall time", async () => {
    const { page } = watched;
    const titles = await page.$$eval("#example option", (options) => options.map((o) => o.textContent));
    assert.ok(titles.length >= 5, `a handful of examples: ${titles.join(", ")}`);
    await page.selectOption("#example", "rpc");
    assert.equal(await runAndWait(page), "Finished");
    assert.deepEqual(JSON.parse((await page.textContent("#result"))!), { message: "Hello, Ada!", letters: 3 });
    assert.match((await page.textContent("#logs"))!, /log\s*greeting Ada/);
    assert.match((await page.textContent("#cpu-ms"))!, /^\d+(\.\d+)? ms$/);
    assert.match((await page.textContent("#wall-ms"))!, /^\d+(\.\d+)? ms$/);
    assert.equal(await page.isVisible("#error"), false);
  });

  it("runs every example to the outcome its title promises", async () => {
    const { page } = watched;
    const expected: Record<string, string> = {
      rpc: "ok",
      fetch: "ok",
      typescript: "ok",
      crypto: "ok",
      throws: "ValidationError",
      "cpu-limit": "CpuLimitError",
      codemode: "ok",
      // This server's config names its own tool source (memory), so there is no demo namespace: a
      // plain server has one (the test "shows the code-mode API … demo tools" runs it there).
      "codemode-demo": "ReferenceError",
    };
    const ids = await page.$$eval("#example option", (options) => options.map((o) => (o as unknown as { value: string }).value) /* <option>s, in the page */);
    assert.deepEqual(ids.sort(), Object.keys(expected).sort());
    for (const id of ids) {
      await page.selectOption("#example", id);
      const status = await runAndWait(page);
      const outcome = status === "Finished" ? "ok" : await page.textContent("#error-name");
      assert.equal(outcome, expected[id], `example ${id}: ${status} ${await page.textContent("#error-message")}`);
    }
    await page.selectOption("#example", "typescript");
    await runAndWait(page);
    assert.deepEqual(JSON.parse((await page.textContent("#result"))!), { count: 8, mean: 3.875, median: 3.5 });
  });

  it("calls a fetch handler with the HTTP request described in the form", async () => {
    const { page } = watched;
    await page.selectOption("#example", "fetch");
    assert.equal(await page.isVisible("#fetch-fields"), true);
    assert.equal(await runAndWait(page), "Finished");
    assert.equal(await page.textContent("#response-status"), "200");
    assert.deepEqual(JSON.parse((await page.textContent("#response-body"))!), { sum: 10 });
    assert.match((await page.textContent("#logs"))!, /POST \/sum/);
  });

  it("shows the name and message of an error thrown by a worker typed into the editor", async () => {
    const { page } = watched;
    await page.selectOption("#example", "rpc");
    const source = [
      "class QuotaExceededError extends Error { name = 'QuotaExceededError'; }",
      "export default { explode(n) { console.error('about to fail', n); throw new QuotaExceededError(`quota of ${n} used up`); } };",
    ].join("\n");
    await page.click("#editor .CodeMirror-code");
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText(source);
    assert.equal(await page.$eval("#editor .CodeMirror", (element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue()), source);
    await page.fill("#method", "explode");
    await page.fill("#args", "[3]");
    assert.equal(await runAndWait(page), "Finished with an error");
    assert.equal(await page.textContent("#error-name"), "QuotaExceededError");
    assert.equal(await page.textContent("#error-message"), "quota of 3 used up");
    assert.match((await page.textContent("#logs"))!, /error\s*about to fail 3/);
    assert.equal(await page.isVisible("#result-block"), false);
  });

  it("runs once on Ctrl+Enter from the editor", async () => {
    const { page } = watched;
    await page.selectOption("#example", "crypto");
    const sent = watched.requests.length;
    await page.click("#editor .CodeMirror-code");
    await page.keyboard.press("Control+Enter");
    await page.waitForSelector("#status.ok");
    const expected = createHash("sha256").update("islet").digest("hex");
    assert.equal(JSON.parse((await page.textContent("#result"))!), expected);
    assert.deepEqual(watched.requests.slice(sent), ["POST /v1/run"]);
  });

  it("names a limit that stopped the worker", async () => {
    const { page } = watched;
    await page.selectOption("#example", "cpu-limit");
    assert.equal(await runAndWait(page), "Finished with an error");
    assert.equal(await page.textContent("#error-name"), "CpuLimitError");
  });

  it("runs a code-mode snippet against the server's tool sources", async () => {
    const { page } = watched;
    await page.selectOption("#example", "codemode");
    assert.equal(await page.isVisible("#call"), false, "a snippet has no entrypoint or request to describe");
    assert.equal(await runAndWait(page), "Finished");
    assert.deepEqual(JSON.parse((await page.textContent("#result"))!), { longest: "capability", total: 30 });
    assert.match((await page.textContent("#logs"))!, /checked 4 words/);

    // A snippet typed in, calling a tool of the memory server, and one that throws.
    await page.click("#editor .CodeMirror-code");
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText(
      "async () => { await memory.create_entities({ entities: [{ name: 'islet', entityType: 'project', observations: ['runs in the browser test'] }] }); return (await memory.read_graph({})).entities.map((e) => e.name); }",
    );
    assert.equal(await runAndWait(page), "Finished");
    assert.deepEqual(JSON.parse((await page.textContent("#result"))!), ["islet"]);
    await page.click("#editor .CodeMirror-code");
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText("async () => { throw new RangeError('out of range'); }");
    assert.equal(await runAndWait(page), "Finished with an error");
    assert.equal(await page.textContent("#error-name"), "RangeError");
    assert.equal(await page.textContent("#error-message"), "out of range");
  });

  it("shows the code-mode API beside the editor, and runs the demo tools on a server whose config names none", async () => {
    const { page } = watched;
    await page.selectOption("#example", "codemode");
    await page.waitForFunction(() => ((globalThis as unknown as PageGlobals).document.getElementById("api")?.textContent ?? "").includes("declare const memory"));
    assert.equal(await page.isVisible("#api-browser"), true);
    assert.match((await page.textContent("#api-note"))!, /^Namespace: memory$/);
    // A plain server (npm start: no config) offers islet's demo source.
    const plain = await startServer({ port: 0, log: false });
    try {
      const api = (await (await fetch(`${plain.url}/v1/codemode/api`)).json()) as { api: string; namespaces: string[]; demo: boolean };
      assert.deepEqual([api.namespaces, api.demo], [["demo"], true]);
      assert.match(api.api, /searchProducts\(input: \{/);
      assert.equal((await fetch(`${plain.url}/mcp`, { method: "POST" })).status, 501, "no MCP endpoint without a configured source");
      const other = await openPlayground(browser, plain);
      try {
        await other.page.selectOption("#example", "codemode-demo");
        await other.page.waitForFunction(() => ((globalThis as unknown as PageGlobals).document.getElementById("api-note")?.textContent ?? "").includes("demo source"));
        assert.equal(await runAndWait(other.page), "Finished");
        assert.deepEqual(JSON.parse((await other.page.textContent("#result"))!), { cheapest: "Reading lamp", inYen: 3184, lisbon: "sunny" });
        assert.deepEqual(other.foreign, []);
        assert.deepEqual(other.problems, []);
      } finally {
        await other.context.close();
      }
    } finally {
      await plain.close();
    }
  });

  it("keeps edits across a reload (Reset brings the example back), detects TypeScript, sends an allow-list, and fits a 420 px screen", async () => {
    const { page } = watched;
    await page.selectOption("#example", "rpc");
    await page.click("#editor .CodeMirror-code");
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText("export default { greet(name: string): string { const n: number = 41; return name + (n + 1); } };");
    await page.reload();
    await page.waitForSelector("#editor .CodeMirror");
    await page.selectOption("#example", "rpc");
    assert.match((await page.textContent("#editor .CodeMirror-code"))!, /const n: number = 41/);
    // Marked JavaScript, typed TypeScript: sent as TypeScript, so no SyntaxError at the first ':'.
    assert.equal(await page.inputValue("#language"), "js");
    assert.equal(await runAndWait(page), "Finished");
    assert.equal(await page.textContent("#result"), '"Ada42"');
    assert.equal(await page.inputValue("#language"), "ts");
    await page.click("#reset");
    assert.doesNotMatch((await page.textContent("#editor .CodeMirror-code"))!, /const n: number = 41/);
    // An allow-list goes with the request (a host the worker never fetches: only the field is checked).
    await page.click("#options summary");
    await page.fill("#allow-hosts", '["api.example.com"]');
    const sent = page.waitForRequest((request) => request.url().endsWith("/v1/run"));
    await runAndWait(page);
    assert.deepEqual(JSON.parse((await sent).postData()!).allowHosts, ["api.example.com"]);
    await page.fill("#allow-hosts", "[]");
    // Nothing of the header runs off a narrow screen.
    await page.setViewportSize({ width: 420, height: 800 });
    const overflow = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return doc.scrollWidth - doc.clientWidth;
    });
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("reports malformed arguments without sending anything", async () => {
    const { page } = watched;
    await page.selectOption("#example", "rpc");
    const sent = watched.requests.length;
    await page.fill("#args", "[oops");
    assert.equal(await runAndWait(page), "Not sent: fix the input first.");
    assert.equal(await page.textContent("#error-name"), "InputError");
    assert.match((await page.textContent("#error-message"))!, /^Arguments is not valid JSON/);
    assert.equal(watched.requests.length, sent);
  });

  it("made no request anywhere but the server, and the page logged no errors", () => {
    assert.deepEqual(watched.foreign, []);
    assert.deepEqual(watched.problems, []);
    assert.ok(watched.requests.includes("GET /playground/app.js"));
    assert.ok(watched.requests.filter((r) => r === "POST /v1/run").length >= 4);
  });

  it("asks for an API key when the server needs one and keeps it in sessionStorage only", async () => {
    const key = "playground-test-key-0123456789";
    const guarded = await startServer({ port: 0, log: false, apiKeys: [{ id: "tester", key }] });
    try {
      const { page, context, foreign, problems } = await openPlayground(browser, guarded);
      await page.waitForSelector("#api-key-form:not([hidden])");
      assert.match(await runAndWait(page), /needs an API key/);
      assert.equal(await page.textContent("#error-name"), "Unauthorized");
      await page.fill("#api-key", key);
      await page.click("#api-key-form button[type=submit]");
      await page.waitForSelector("#status.ok");
      assert.match((await page.textContent("#result"))!, /Hello, Ada!/);
      assert.equal(await page.isVisible("#api-key-form"), false);
      const storage = await page.evaluate(() => ({ session: sessionStorage.getItem("islet.playground.apiKey"), local: localStorage.length, cookie: (globalThis as unknown as { document: { cookie: string } }).document.cookie })); // runs in the page
      assert.deepEqual(storage, { session: key, local: 0, cookie: "" });
      assert.deepEqual(foreign, []);
      assert.deepEqual(problems, []);
      await context.close();
    } finally {
      await guarded.close();
    }
  });
});
