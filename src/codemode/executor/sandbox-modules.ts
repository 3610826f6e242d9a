// The modules around the model's code. globals.js runs first and puts one frozen object per
// namespace on globalThis; each method forwards (namespace index, tool index, input) to a single
// host function passed in env, the sandbox's only capability. main.js is the entrypoint the host
// calls; it evaluates the code inside that call, so its logs, CPU and time are the call's.

import { CODE_MODULE, type PreparedUserCode } from "./code-form.ts";
import { SESSION_BINDING } from "./sessions.ts";

export const CALL_BINDING = "__codemodeCall";

export interface SandboxNamespace {
  identifier: string;
  tools: string[];
}

// With a session, `session` is a frozen global over the session binding. Values cross as JSON
// text, made and parsed here, inside the sandbox (under its cpuMs and memoryMb): the host only
// ever moves strings, so no stored value makes it build objects on its own thread. SQL blobs
// travel as { $bytes: base64 } and come back as ArrayBuffers. The intrinsics used are taken
// before the model's code runs.
const sessionGlobal = `const binding = env[${JSON.stringify(SESSION_BINDING)}];
const stringify = JSON.stringify, parse = JSON.parse, MapCtor = Map, Uint8ArrayCtor = Uint8Array, decode64 = atob;
const keysOf = Object.keys, hasOwn = Object.hasOwn, TypeErrorCtor = TypeError;
const charCodeAt = Function.prototype.call.bind(String.prototype.charCodeAt);
const fromJson = (text) => (text === undefined ? undefined : parse(text));
const toJson = (value, what) => {
  const text = stringify(value);
  if (typeof text !== "string") throw new TypeErrorCtor(what + ": the value must be JSON data");
  return text;
};
const cells = (key, value) => {
  if (value !== null && typeof value === "object" && hasOwn(value, "$bytes") && typeof value.$bytes === "string" && keysOf(value).length === 1) {
    const text = decode64(value.$bytes);
    const bytes = new Uint8ArrayCtor(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = charCodeAt(text, i);
    return bytes.buffer;
  }
  return value;
};
const session = Object.create(null);
const methods = {
  get: async (key) => fromJson(await binding.get(key)),
  put: async (key, value) => binding.put(key, toJson(value, "session.put")),
  delete: async (key) => binding.delete(key),
  list: async (options) => new MapCtor(parse(await binding.list(options === undefined ? undefined : parse(toJson(options, "session.list"))))),
  sql: async (query, ...bindings) => parse(await binding.sql(query, ...bindings), cells),
};
for (const name of ["get", "put", "delete", "list", "sql"]) {
  Object.defineProperty(session, name, { value: methods[name], enumerable: true });
}
Object.defineProperty(globalThis, "session", { value: Object.freeze(session), enumerable: false, writable: false, configurable: false });
`;

function globalsModule(namespaces: readonly SandboxNamespace[], withSession: boolean): string {
  return `import { env } from "cloudflare:workers";
const call = env[${JSON.stringify(CALL_BINDING)}];
const namespaces = ${JSON.stringify(namespaces.map((n) => [n.identifier, n.tools]))};
namespaces.forEach(([name, tools], namespaceIndex) => {
  const api = Object.create(null);
  tools.forEach((tool, toolIndex) => {
    Object.defineProperty(api, tool, { value: (input) => call(namespaceIndex, toolIndex, input), enumerable: true });
  });
  Object.defineProperty(globalThis, name, { value: Object.freeze(api), enumerable: false, writable: false, configurable: false });
});
${withSession ? sessionGlobal : ""}`;
}

const mainModule = `import "./globals.js";
import code from "./${CODE_MODULE}";
import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  async run() {
    let value = typeof code === "function" ? await code() : await code;
    if (typeof value === "function") value = await value();
    return value;
  }
}
`;

export function sandboxModules(code: PreparedUserCode, namespaces: readonly SandboxNamespace[], withSession = false): Record<string, string> {
  return { "main.js": mainModule, "globals.js": globalsModule(namespaces, withSession), [CODE_MODULE]: code.source };
}
