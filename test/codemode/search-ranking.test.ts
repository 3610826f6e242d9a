// search's find(): tools ranked by relevance, over GitHub's whole REST API (1,000+ operations) as
// the model would search it, and over a small source whose words only its keywords carry.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { encode } from "gpt-tokenizer/encoding/o200k_base";
import { WorkerLoader } from "islet";
import { buildCatalog, fromOpenApi } from "islet/codemode";
import { runSearch, searchCatalog } from "../../src/codemode/search.ts";

const loader = new WorkerLoader();
test.after(() => loader.close());

const githubFile = createRequire(import.meta.url).resolve("@octokit/openapi/generated/api.github.com.json");
const github = searchCatalog(buildCatalog([fromOpenApi(JSON.parse(readFileSync(githubFile, "utf8")), { namespace: "github" })]));

async function top(query: string, options = "{ limit: 5 }"): Promise<string[]> {
  const { result, error } = await runSearch(loader, github, `async () => find(${JSON.stringify(query)}, ${options}).map((t) => t.path)`);
  assert.equal(error, undefined);
  return result as string[];
}

test("find ranks GitHub's operations by the words a model uses", async () => {
  assert.equal((await top("create an issue"))[0], "github.issues_create");
  assert.equal((await top("list pull requests"))[0], "github.pulls_list");
  assert.equal((await top("merge a pull request"))[0], "github.pulls_merge");
  // Inflections meet: "starring" and "stars" find the star operations.
  assert.ok((await top("starring a repository")).includes("github.activity_star_repo_for_authenticated_user"), "starring");
  // The HTTP method and path are words too.
  assert.equal((await top("DELETE /repos/{owner}/{repo}/git/refs/{ref}"))[0], "github.git_delete_ref");
  // So are parameter names: only a few operations take a `workflow_id`.
  const byParameter = await top("workflow_id dispatch");
  assert.equal(byParameter[0], "github.actions_create_workflow_dispatch");
});

test("find's options: limit and namespace; no match is an empty list; unfiltered code pays nothing", async () => {
  assert.equal((await top("issue", "{ limit: 3 }")).length, 3);
  assert.equal((await top("issue", "undefined")).length, 10);
  assert.deepEqual(await top("issue", "{ namespace: 'nope' }"), []);
  assert.deepEqual(await top("zzqxv"), []);
  const { result } = await runSearch(loader, github, "async () => Object.keys(tools[0]).includes('keywords')");
  assert.equal(result, false, "keywords stay out of the tool objects the code sees");
  // The index over 1,000+ operations is made inside the search sandbox's CPU limit.
  const timed = await runSearch(loader, github, "async () => find('repository secrets', { limit: 3 }).length", { limits: { cpuMs: 1500 } });
  assert.deepEqual(timed, { result: 3 });
});

test("an operation found only by its tags, method or long description", async () => {
  const api = fromOpenApi(
    {
      openapi: "3.0.3",
      info: { title: "Shop", version: "1" },
      paths: {
        "/v1/items/{id}": {
          delete: { operationId: "remove", summary: "Removes it", description: "Deletes the product from the catalogue for good.", tags: ["inventory"], parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { "204": { description: "gone" } } },
          get: { operationId: "read", summary: "Reads it", tags: ["inventory"], parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }], responses: { "200": { description: "ok" } } },
        },
        "/v1/orders": { post: { operationId: "place", summary: "Places an order", tags: ["sales"], responses: { "201": { description: "ok" } } } },
      },
    },
    { namespace: "shop", baseUrl: "https://shop.test" },
  );
  const catalog = searchCatalog(buildCatalog([api]));
  const find = async (query: string) => (await runSearch(loader, catalog, `async () => find(${JSON.stringify(query)}).map((t) => t.name)`)).result;
  assert.deepEqual(await find("delete product"), ["remove"], "method and long description");
  assert.deepEqual(await find("sales"), ["place"], "tag");
  assert.deepEqual(((await find("inventory")) as string[]).sort(), ["read", "remove"], "both tagged operations, and only they");
});

test("a GitHub operation's declaration names deep response types instead of inlining them; its input is whole", async () => {
  const { result } = await runSearch(loader, github, "async () => [tools.find((t) => t.path === 'github.issues_create').declaration, declarations(['github.issues_create'], { depth: Infinity })]");
  const [short, full] = result as [string, string];
  const tokens = (text: string) => encode(text).length;
  // Measured: 1,133 tokens against 4,646 with the whole graph of Issue, User, Repository ….
  assert.ok(tokens(short) < 1_500 && tokens(full) > 3 * tokens(short), `${tokens(short)} vs ${tokens(full)} tokens`);
  assert.match(short, /\binterface Issue \{/);
  assert.doesNotMatch(short, /\binterface Repository \{/);
  assert.match(short, /not expanded: .*\bRepository\b/);
  // Everything the code must write is there: the input's named types and those below them.
  assert.match(short, /\binterface Owner \{/);
  const repository = (await runSearch(loader, github, "async () => expand('github.Repository')")).result as string;
  assert.match(repository, /^declare namespace github \{\n(.|\n)*\binterface Repository \{/);
});
