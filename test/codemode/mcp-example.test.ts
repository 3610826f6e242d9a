// examples/mcp: the sample config starts as written (npx resolves the locally installed servers,
// offline), and the two snippets its README shows run against it. GitHub is answered by a stand-in
// fetch, which also shows the token is added on the host.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { loadConfig } from "../../src/codemode/config.ts";
import { openIsletMcp } from "../../src/codemode/mcp-server.ts";
import { repoRoot, tempDir } from "./mcp-upstreams.ts";

const exampleDir = join(repoRoot, "examples/mcp");

function readmeSnippets(): { search: string; execute: string } {
  const readme = readFileSync(join(exampleDir, "README.md"), "utf8");
  const block = /```js\n([\s\S]*?)```/.exec(readme)![1];
  const [search, execute] = block
    .split(/\n\s*\n/)
    .map((part) => part.split("\n").filter((line) => !line.startsWith("//")).join("\n").trim());
  return { search, execute };
}

test("the example config starts and the README's search and execute snippets work against it", async () => {
  const dir = tempDir("mcp-example");
  const token = "ghp_exampleToken1234567890";
  const seen: { url: string; authorization: string | null }[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push({ url: request.url, authorization: request.headers.get("authorization") });
    const issues = [
      { number: 1, title: "crash", labels: [{ name: "bug" }] },
      { number: 2, title: "docs", labels: [{ name: "doc" }] },
      { number: 3, title: "leak", labels: [{ name: "bug" }, { name: "memory" }] },
    ];
    return Response.json(issues);
  }) as typeof fetch;
  writeFileSync(join(dir.path, "a.md"), "# a\n");
  writeFileSync(join(dir.path, "b.md"), "# b\n");
  let mcp;
  try {
    const config = await loadConfig(join(exampleDir, "islet-mcp.json"), {
      PATH: process.env.PATH,
      ISLET_MEMORY_FILE: join(dir.path, "memory.jsonl"),
      ISLET_FILES_ROOT: dir.path,
      GITHUB_TOKEN: token,
    });
    // Whatever the environment puts into env, headers or auth counts as secret; args (the files root) do not.
    assert.deepEqual(config.secrets.sort(), [join(dir.path, "memory.jsonl"), token].sort());
    mcp = await openIsletMcp(config);
    assert.deepEqual(mcp.catalog.namespaces.map((ns) => ns.name), ["memory", "files", "github"]);
    assert.ok(mcp.catalog.namespaces[2].tools > 1000);
    const surface = encode(JSON.stringify(mcp.tools)).length;
    assert.ok(surface < 1000, `two-tool surface over ~1,200 GitHub operations: ${surface} tokens`);

    const { search, execute } = readmeSnippets();
    const found = await mcp.callTool("search", { code: search });
    const text = (found.content[0] as { text: string }).text;
    assert.match(text, /issues_list_for_repo\(input: github\.OwnerRepo\d* & \{\n[^]*?\}\): Promise<github\.Issue\[\]>;/);
    const declaration = await mcp.callTool("search", { code: "async () => tools.find(t => t.path === 'github.issues_list_for_repo').declaration" });
    const declared = (declaration.content[0] as { text: string }).text;
    assert.match(declared, /^declare namespace github \{\n/);
    assert.match(declared, /\n +interface OwnerRepo\d* extends Owner \{/);
    assert.match(declared, /\n +interface Owner \{/);

    // The files server's root is the temp folder; the snippet searches ".", relative to the server's cwd.
    const result = await mcp.callTool("execute", { code: execute.replace('path: "."', `path: ${JSON.stringify(dir.path)}`) });
    assert.equal(result.isError, undefined, JSON.stringify(result));
    assert.deepEqual(JSON.parse((result.content[0] as { text: string }).text), { bugs: [1, 3], docs: 2 });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, "https://api.github.com/repos/nodejs/node/issues?state=open&per_page=100");
    assert.equal(seen[0].authorization, `Bearer ${token}`);
  } finally {
    globalThis.fetch = realFetch;
    await mcp?.close();
    dir.remove();
  }
});
