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

// With a session, \`session\` is a frozen global whose methods forward to the session binding.
const sessionGlobal = `const binding = env[${JSON.stringify(SESSION_BINDING)}];
const session = Object.create(null);
for (const name of ["get", "put", "delete", "list", "sql"]) {
  Object.defineProperty(session, name, { value: (...args) => binding[name](...args), enumerable: true });
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
