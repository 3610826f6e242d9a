import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { execute, fromOpenApi, generateApi, OpenApiError, type OpenApiRequest } from "islet/codemode";
import { typecheck } from "./typecheck.ts";

const SECRET = "s3cret-token-123";

// A small pet store, OpenAPI 3.0 in YAML: path, query, header and body parameters, a shared
// parameter, a $ref'd request body, nullable fields and a recursive schema.
const petstoreYaml = `
openapi: 3.0.3
info:
  title: Pet store
servers:
  - url: http://placeholder.invalid/v1
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - name: limit
          in: query
          schema: { type: integer }
        - name: tags
          in: query
          schema: { type: array, items: { type: string } }
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { type: array, items: { $ref: "#/components/schemas/Pet" } }
    post:
      operationId: createPet
      summary: Create a pet
      parameters:
        - $ref: "#/components/parameters/RequestId"
      requestBody:
        $ref: "#/components/requestBodies/NewPet"
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
  /pets/{petId}:
    parameters:
      - name: petId
        in: path
        required: true
        description: The pet's id
        schema: { type: string }
    get:
      operationId: getPet
      summary: Get one pet
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
    delete:
      summary: Delete a pet
      responses:
        "204": { description: deleted }
components:
  parameters:
    RequestId:
      name: X-Request-Id
      in: header
      required: false
      schema: { type: string }
  requestBodies:
    NewPet:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [name]
            properties:
              name: { type: string }
              tag: { type: string, nullable: true }
  schemas:
    Pet:
      type: object
      description: A pet
      required: [id, name]
      properties:
        id: { type: string }
        name: { type: string }
        tag: { type: string, nullable: true }
        parent: { $ref: "#/components/schemas/Pet" }
`;

// A tiny OpenAPI 3.1 document in JSON: type arrays for null, $defs-style components, const.
const notes31 = JSON.stringify({
  openapi: "3.1.0",
  info: { title: "Notes" },
  paths: {
    "/notes/{id}": {
      put: {
        operationId: "notes/put",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer" } }],
        requestBody: { content: { "application/json": { schema: { $ref: "#/components/schemas/Note" } } } },
        responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/Note" } } } } },
      },
    },
  },
  components: { schemas: { Note: { type: "object", properties: { text: { type: ["string", "null"] }, kind: { const: "note" } }, required: ["text"] } } },
});

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  requestId?: string;
  body: string;
}

let server: Server;
let baseUrl: string;
const seen: Seen[] = [];
const pets = new Map([["1", { id: "1", name: "Rex", tag: null }]]);

async function readBody(req: IncomingMessage): Promise<string> {
  let body = "";
  for await (const chunk of req) body += chunk;
  return body;
}

before(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, requestId: req.headers["x-request-id"] as string | undefined, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (req.headers.authorization !== `Bearer ${SECRET}`) return json(401, { message: "Bad credentials" });
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/v1/pets" && req.method === "GET") return json(200, [...pets.values()].slice(0, Number(url.searchParams.get("limit") ?? 100)));
    if (url.pathname === "/v1/pets" && req.method === "POST") {
      const pet = { id: String(pets.size + 1), ...JSON.parse(body) };
      pets.set(pet.id, pet);
      return json(201, pet);
    }
    const match = /^\/v1\/pets\/([^/]+)$/.exec(url.pathname);
    if (match && req.method === "GET") return pets.has(decodeURIComponent(match[1])) ? json(200, pets.get(decodeURIComponent(match[1]))) : json(404, { message: "No such pet" });
    if (match && req.method === "DELETE") {
      pets.delete(match[1]);
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === "/v1/echo-text") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`text:${url.search}`);
      return;
    }
    json(404, { message: "Not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("a 3.0 YAML document becomes typed methods with path, query, header and body parameters", async () => {
  const source = fromOpenApi(petstoreYaml, { namespace: "pets", baseUrl });
  assert.deepEqual(source.tools.map((t) => t.name), ["request", "listPets", "createPet", "getPet", "delete /pets/{petId}"]);
  const api = generateApi([source]);
  assert.match(api.text, /\n listPets\(input\?: \{ limit\?: number; tags\?: string\[\] \}\): Promise<pets\.Pet\[\]>;/);
  assert.match(api.text, /\n createPet\(input: \{ "X-Request-Id"\?: string; body: \{ name: string; tag\?: string \| null \} \}\): Promise<pets\.Pet>;/);
  assert.match(api.text, /\n getPet\(input: \{ \/\*\* The pet's id \*\/ petId: string \}\): Promise<pets\.Pet>;/);
  assert.match(api.text, /\/\*\* A pet \*\/\n interface Pet { id: string; name: string; tag\?: string \| null; parent\?: Pet }/);
  assert.match(api.text, /\n delete_pets_petId\(input: \{ \/\*\* The pet's id \*\/ petId: string \}\): Promise<unknown>;/);
  assert.equal(await typecheck({ "api.d.ts": api.text, "use.ts": "export const p = pets.getPet({ petId: '1' }).then((p) => p.parent?.name);" }), "");
});

test("calls reach a real server through the host's request function, which adds credentials the sandbox never sees", async () => {
  seen.length = 0;
  const requests: OpenApiRequest[] = [];
  const source = fromOpenApi(petstoreYaml, {
    namespace: "pets",
    baseUrl,
    request: (request) => {
      requests.push(request);
      return fetch(request.url, { method: request.method, headers: { ...request.headers, authorization: `Bearer ${SECRET}` }, body: request.body === undefined ? undefined : JSON.stringify(request.body) });
    },
  });
  const out = await execute(
    `async () => {
      const created = await pets.createPet({ "X-Request-Id": "req-7", body: { name: "Tom", tag: "cat" } });
      const listed = await pets.listPets({ limit: 5, tags: ["a", "b"] });
      const one = await pets.getPet({ petId: created.id });
      let missing, missingStatus;
      try { await pets.getPet({ petId: "nope/../1" }); } catch (e) { missing = e.name + " " + e.message; missingStatus = e.status; }
      const raw = await pets.request({ method: "GET", path: "/echo-text", query: { q: "x y" } });
      const rawMissing = await pets.request({ method: "GET", path: "/pets/zzz" });
      console.log("done");
      return { created, count: listed.length, one, missing, missingStatus, raw, rawMissing: rawMissing.status, env: JSON.stringify(globalThis) };
    }`,
    [source],
  );
  assert.equal(out.error, undefined);
  const result = out.result as Record<string, any>;
  assert.deepEqual(result.created, { id: "2", name: "Tom", tag: "cat" });
  assert.equal(result.count, 2);
  assert.deepEqual(result.one, result.created);
  assert.equal(result.missing, 'HttpError GET /pets/nope%2F..%2F1 failed with 404 Not Found: {"message":"No such pet"}');
  assert.equal(result.missingStatus, 404, "an HttpError's status reaches the code that catches it");
  assert.equal(result.raw.status, 200);
  assert.equal(result.raw.body, "text:?q=x+y");
  assert.equal(result.rawMissing, 404);
  assert.deepEqual(
    seen.map((s) => `${s.method} ${s.url}`),
    ["POST /v1/pets", "GET /v1/pets?limit=5&tags=a&tags=b", "GET /v1/pets/2", "GET /v1/pets/nope%2F..%2F1", "GET /v1/echo-text?q=x+y", "GET /v1/pets/zzz"],
  );
  assert.ok(seen.every((s) => s.authorization === `Bearer ${SECRET}`));
  assert.equal(seen[0].requestId, "req-7");
  assert.equal(seen[0].body, '{"name":"Tom","tag":"cat"}');
  assert.equal(requests[0].operationId, "createPet");
  assert.equal(requests[0].headers["content-type"], "application/json");
  // What README says `request` is called with: a plain object, not a fetch Request; the body as the code gave it.
  assert.ok(!(requests[0] instanceof Request));
  assert.equal(Object.getPrototypeOf(requests[0]), Object.prototype);
  assert.deepEqual(Object.keys(requests[0]).sort(), ["body", "contentType", "headers", "method", "operationId", "path", "query", "url"]);
  assert.deepEqual(requests[0].body, { name: "Tom", tag: "cat" });
  assert.equal(requests[0].url, `${baseUrl}/pets`);
  assert.deepEqual(requests[1].query, [["limit", "5"], ["tags", "a"], ["tags", "b"]]);
  assert.equal(requests[4].operationId, undefined, "the raw request() names no operation");
  // The secret appears nowhere the sandbox could have seen or reported it.
  assert.ok(!JSON.stringify(out).includes(SECRET));
  assert.ok(!JSON.stringify(requests).includes(SECRET));
});

test("the default request function uses fetch with the host's headers; bad input is a named error in the sandbox", async () => {
  seen.length = 0;
  const source = fromOpenApi(petstoreYaml, { namespace: "pets", baseUrl, headers: { authorization: `Bearer ${SECRET}` } });
  const out = await execute(
    `async () => {
      const errors = [];
      for (const call of [() => pets.getPet({ petId: "1", extra: 1 }), () => pets.createPet({}), () => pets.getPet({}), () => pets.request({ method: "GET", path: "https://evil.example/" }), () => pets.request({ method: "GET", path: "/../../etc" })]) {
        try { await call(); errors.push("no error"); } catch (e) { errors.push(e.name + ": " + e.message); }
      }
      return { pet: await pets.getPet({ petId: "1" }), errors };
    }`,
    [source],
  );
  assert.equal(out.error, undefined);
  const result = out.result as { pet: unknown; errors: string[] };
  assert.deepEqual(result.pet, { id: "1", name: "Rex", tag: null });
  assert.deepEqual(result.errors, [
    'ToolInputError: Invalid input for pets.getPet:\n- no such property "extra" (it takes petId)',
    "ToolInputError: Invalid input for pets.createPet:\n- body: required (object)",
    "ToolInputError: Invalid input for pets.getPet:\n- petId: required (string)",
    'ToolInputError: request(): path must be a string starting with "/" (relative to the API\'s base URL).',
    'ToolInputError: The path "/../../etc" leaves the API\'s base URL.',
  ]);
  assert.deepEqual(seen.map((s) => [s.url, s.authorization]), [["/v1/pets/1", `Bearer ${SECRET}`]]);
});

test("a 3.1 JSON document: type arrays with null, const, sanitised operationIds", async () => {
  const bodies: unknown[] = [];
  const source = fromOpenApi(notes31, {
    namespace: "notes",
    baseUrl: "https://notes.example",
    needsApproval: (op) => op.method !== "GET",
    request: (request) => {
      bodies.push([request.method, request.url, request.body]);
      return { status: 200, body: { ...(request.body as object), kind: "note" } };
    },
  });
  const api = generateApi([source]);
  assert.match(api.text, /interface Note { text: string \| null; kind\?: "note" }/);
  assert.match(api.text, /\n notes_put\(input: \{ id: number; body\?: notes\.Note \}\): Promise<notes\.Note>;/);
  assert.match(api.text, /@needsApproval/);
  const out = await execute(`async () => notes.notes_put({ id: 3, body: { text: null } })`, [source], { onApproval: () => true });
  assert.deepEqual(out.result, { text: null, kind: "note" });
  assert.deepEqual(bodies, [["PUT", "https://notes.example/notes/3", { text: null }]]);
});

test("documents that are not OpenAPI 3 are refused with OpenApiError", () => {
  assert.throws(() => fromOpenApi('{"swagger": "2.0"}', { namespace: "x" }), (e: unknown) => e instanceof OpenApiError && /Swagger 2\.0/.test(e.message));
  assert.throws(() => fromOpenApi("openapi: [unclosed", { namespace: "x" }), OpenApiError);
  assert.throws(() => fromOpenApi({ openapi: "4.0.0" }, { namespace: "x" }), /Unsupported OpenAPI version/);
  assert.throws(() => fromOpenApi({ openapi: "3.0.0", paths: { "/a": { get: { parameters: [{ $ref: "#/components/parameters/Nope" }] } } } }, { namespace: "x" }), /points at nothing/);
  assert.throws(() => fromOpenApi({ openapi: "3.0.0" }, {} as never), /namespace/);
});

for (const [token, tail] of [["SECRET-TOKEN-123456", "123456"], ["8f3kPq9zLm2x==Zt4v7Qa", "Zt4v7Qa"]] as const) test(`a token the default request function adds is redacted whole when the upstream quotes it back (findings14/04; a base64 token with "=" inside: findings16/05): ${token}`, async () => {
  const upstream = createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    res.writeHead(req.url === "/me" ? 401 : 200, { "content-type": "application/json", "www-authenticate": `Bearer error="invalid_token" token="${auth.slice(7)}"` });
    res.end(JSON.stringify({ error: `bad token ${auth}`, echoed: auth.slice(7) }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  try {
    const source = fromOpenApi(
      { openapi: "3.0.3", info: { title: "Echo", version: "1" }, paths: { "/me": { get: { operationId: "me", responses: { "200": { description: "ok" } } } }, "/echo": { get: { operationId: "echo", responses: { "200": { description: "ok", content: { "application/json": { schema: { type: "object" } } } } } } } } },
      { namespace: "api", baseUrl: url, headers: { authorization: `Bearer ${token}` } },
    );
    const out = await execute(
      `async () => {
        const raw = await api.request({ method: "GET", path: "/me" });
        let message = "";
        try { await api.me(); } catch (e) { message = e.message; }
        return { header: raw.headers["www-authenticate"], body: raw.body, echoed: (await api.echo()).echoed, message };
      }`,
      [source],
    );
    assert.equal(out.error, undefined);
    const text = JSON.stringify(out.result);
    assert.ok(!text.includes(token), text);
    assert.ok(!text.includes(tail), `the token's tail reached the code: ${text}`);
    assert.match(text, /\[redacted\]/);
  } finally {
    upstream.close();
  }
});

test("an upstream that cannot be reached is an UpstreamError saying why (refused, TLS), with kind and code on the error the code catches, not fetch's bare 'fetch failed'", async () => {
  const plain = createServer((_req, res) => res.end("{}"));
  await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
  const port = (plain.address() as AddressInfo).port;
  try {
    const document = { openapi: "3.0.3", info: { title: "Down", version: "1" }, paths: { "/me": { get: { operationId: "me", responses: { "200": { description: "ok" } } } } } };
    // A port that was free a moment ago (fetch refuses port 1 itself, as a "bad port").
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = fromOpenApi(document, { namespace: "refused", baseUrl: `http://127.0.0.1:${closedPort}` });
    const tls = fromOpenApi(document, { namespace: "tls", baseUrl: `https://127.0.0.1:${port}` });
    const out = await execute(
      `async () => {
        const seen = [];
        for (const call of [() => refused.me(), () => tls.me()]) {
          try { await call(); } catch (e) { seen.push([e.name, e.kind, e.code, e.message]); }
        }
        return seen;
      }`,
      [refused, tls],
    );
    assert.equal(out.error, undefined, out.error);
    const [[name1, kind1, code1, message1], [name2, kind2, , message2]] = out.result as string[][];
    assert.deepEqual([name1, kind1, code1], ["UpstreamError", "refused", "ECONNREFUSED"]);
    assert.match(message1, /^GET \/me: could not reach 127\.0\.0\.1:\d+: the connection was refused \(ECONNREFUSED\)\.$/);
    assert.deepEqual([name2, kind2], ["UpstreamError", "tls"]);
    assert.match(message2, /could not reach 127\.0\.0\.1:\d+: its TLS certificate was not accepted/);
  } finally {
    plain.close();
  }
});

test("a request fetch cannot make (credentials in baseUrl, a header value it refuses) is an UpstreamError quoting neither (findings19/01)", async () => {
  const document = { openapi: "3.0.3", info: { title: "Bad", version: "1" }, paths: { "/me": { get: { operationId: "me", responses: { "200": { description: "ok" } } } } } };
  const inUrl = fromOpenApi(document, { namespace: "inurl", baseUrl: "http://admin:PASS-IN-URL@127.0.0.1:9" });
  const inHeader = fromOpenApi(document, { namespace: "inheader", baseUrl: "http://127.0.0.1:9", headers: { "x-key": "SECRET-IN-HEADER\nx" } });
  const out = await execute(
    `async () => {
      const seen = [];
      for (const call of [() => inurl.me(), () => inheader.me()]) {
        try { await call(); } catch (e) { seen.push([e.name, e.kind, e.message]); }
      }
      return seen;
    }`,
    [inUrl, inHeader],
  );
  assert.equal(out.error, undefined, out.error);
  const text = JSON.stringify(out.result);
  assert.ok(!text.includes("PASS-IN-URL") && !text.includes("SECRET-IN-HEADER"), text);
  assert.deepEqual((out.result as string[][]).map(([name, kind]) => [name, kind]), [["UpstreamError", "request"], ["UpstreamError", "request"]]);
});
