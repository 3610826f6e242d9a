import { test } from "node:test";
import assert from "node:assert/strict";
import { buildCatalog, execute, fromFunctions } from "islet/codemode";

const issues = fromFunctions(
  "issue-tracker",
  {
    "list-issues": {
      description: "Open issues of a project",
      inputSchema: { type: "object", properties: { project: { type: "string" } }, required: ["project"] },
      outputSchema: { type: "array", items: { $ref: "#/$defs/Issue" }, $defs: { Issue: { type: "object", properties: { id: { type: "number" }, title: { type: "string" } }, required: ["id", "title"] } } },
      execute: () => [],
    },
    close: { description: "Closes an issue", needsApproval: true, inputSchema: { type: "object", properties: { id: { type: "number" } }, required: ["id"] }, execute: () => true },
  },
  { description: "Issues" },
);

test("the catalog is plain data: tools with their types, named types, namespaces and the API", () => {
  const catalog = buildCatalog([issues]);
  assert.deepEqual(catalog.tools, [
    {
      namespace: "issue_tracker",
      name: "list_issues",
      originalName: "list-issues",
      description: "Open issues of a project",
      inputType: "{ project: string }",
      outputType: "issue_tracker.Issue[]",
      needsApproval: false,
      signature: "/** Open issues of a project */\nlist_issues(input: { project: string }): Promise<issue_tracker.Issue[]>;",
      standaloneSignature: "/** Open issues of a project */\nlist_issues(input: { project: string }): Promise<issue_tracker.Issue[]>;",
      notes: [],
      types: ["Issue"],
      inputTypes: [],
      keywords: "project",
    },
    {
      namespace: "issue_tracker",
      name: "close",
      originalName: "close",
      description: "Closes an issue",
      inputType: "{ id: number }",
      outputType: "unknown",
      needsApproval: true,
      signature: "/** Closes an issue @needsApproval The host must approve each call; a rejection throws ApprovalRejectedError. */\nclose(input: { id: number }): Promise<unknown>;",
      standaloneSignature: "/** Closes an issue @needsApproval The host must approve each call; a rejection throws ApprovalRejectedError. */\nclose(input: { id: number }): Promise<unknown>;",
      notes: [],
      types: [],
      inputTypes: [],
      keywords: "id",
    },
  ]);
  assert.deepEqual(catalog.types, [{ namespace: "issue_tracker", name: "Issue", declaration: "interface Issue { id: number; title: string }" }]);
  assert.deepEqual(catalog.namespaces, [{ namespace: "issue_tracker", originalName: "issue-tracker", description: "Issues", tools: 2 }]);
  assert.match(catalog.api, /^declare namespace issue_tracker \{/);
  // It survives a trip into a sandbox unchanged, where search code can run over it.
  assert.deepEqual(structuredClone(catalog), catalog);
});

test("search code runs over the catalog in a sandbox", async () => {
  const catalog = buildCatalog([issues]);
  const out = await execute(`async () => (await codemode.catalog()).tools.filter((t) => /close/i.test(t.description)).map((t) => t.namespace + "." + t.name)`, { catalog: () => catalog });
  assert.deepEqual(out.result, ["issue_tracker.close"]);
});
