import { test } from "node:test";
import assert from "node:assert/strict";
import { generateApi, namespaceIdentifier, toolIdentifier, typeIdentifier, NamespaceCollisionError, type ToolProvider } from "islet/codemode";

test("tool names become identifiers that keep the source's words", () => {
  assert.equal(toolIdentifier("get-user"), "get_user");
  assert.equal(toolIdentifier("repos/get"), "repos_get");
  assert.equal(toolIdentifier("actions/list-artifacts-for-repo"), "actions_list_artifacts_for_repo");
  assert.equal(toolIdentifier("getUser"), "getUser");
  assert.equal(toolIdentifier("_private"), "_private");
  assert.equal(toolIdentifier("2fa-status"), "_2fa_status");
  assert.equal(toolIdentifier("  spaced out!  "), "spaced_out");
  assert.equal(toolIdentifier("GET /users/{id}"), "GET_users_id");
  assert.equal(toolIdentifier("héllo wörld"), "h_llo_w_rld");
  assert.equal(toolIdentifier("!!!"), "_");
  // Reserved words are fine after a dot; __proto__ is not.
  assert.equal(toolIdentifier("delete"), "delete");
  assert.equal(toolIdentifier("__proto__"), "__proto___");
});

test("namespaces avoid reserved words and the sandbox's globals", () => {
  assert.equal(namespaceIdentifier("my-tools"), "my_tools");
  assert.equal(namespaceIdentifier("default"), "default_");
  assert.equal(namespaceIdentifier("console"), "console_");
  assert.equal(namespaceIdentifier("fetch"), "fetch_");
  assert.equal(namespaceIdentifier("JSON"), "JSON_");
  assert.equal(namespaceIdentifier("1password"), "_1password");
  assert.equal(namespaceIdentifier("github"), "github");
});

test("type names are PascalCase and avoid the generator's own names", () => {
  assert.equal(typeIdentifier("simple-user"), "SimpleUser");
  assert.equal(typeIdentifier("repos/get"), "ReposGet");
  assert.equal(typeIdentifier("getUser"), "GetUser");
  assert.equal(typeIdentifier("404-response"), "T404Response");
  assert.equal(typeIdentifier("record"), "Record_");
  assert.equal(typeIdentifier("---"), "Type");
});

const tool = (name: string) => ({ name, inputSchema: { type: "object", properties: {} } });
const provider = (namespace: string, names: string[]): ToolProvider => ({ namespace, tools: names.map(tool), call: async () => undefined });

test("colliding tool names are disambiguated in source order and reported", () => {
  const api = generateApi([provider("ns", ["get-user", "get_user", "get user", "other"])]);
  assert.deepEqual(api.namespaces[0].tools.map((t) => t.name), ["get_user", "get_user_2", "get_user_3", "other"]);
  assert.deepEqual(api.renames, [
    { namespace: "ns", originalName: "get_user", identifier: "get_user_2", reason: "collision" },
    { namespace: "ns", originalName: "get user", identifier: "get_user_3", reason: "collision" },
  ]);
  // The same input gives the same names.
  assert.deepEqual(generateApi([provider("ns", ["get-user", "get_user", "get user", "other"])]).namespaces[0].tools.map((t) => t.name), ["get_user", "get_user_2", "get_user_3", "other"]);
});

test("colliding namespaces are the host's mistake: NamespaceCollisionError", () => {
  assert.throws(() => generateApi([provider("my-tools", ["a"]), provider("my_tools", ["b"])]), (error: unknown) => {
    assert.ok(error instanceof NamespaceCollisionError);
    assert.equal(error.name, "NamespaceCollisionError");
    assert.equal(error.identifier, "my_tools");
    assert.deepEqual(error.namespaces, ["my-tools", "my_tools"]);
    return true;
  });
});
