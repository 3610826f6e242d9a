// nodejs_compat on the host: which Node built-ins a worker may import, how an import specifier
// names one, and the small generated ES module that stands for each. A generated module takes the
// module's value from the runtime's node chunk (through the internal islet:runtime bridge) and
// re-exports its properties by name, so the list of names must be known here, before evaluation:
// scripts/node-exports.ts reads it off the chunk's modules at build time
// (node-exports.generated.ts), and test/runtime/node/exports.test.ts checks it is current.

import { builtinModules } from "node:module";
import { WorkerCodeError } from "../errors.ts";
import type { ModuleSource } from "../engine/sandbox.ts";
import { NODE_MODULE_EXPORTS } from "./node-exports.generated.ts";

/** Either flag turns Node compatibility on, as on Cloudflare Workers. */
export const NODE_COMPAT_FLAGS: readonly string[] = ["nodejs_compat", "nodejs_compat_v2"];

export function hasNodeCompat(flags: readonly string[] | undefined): boolean {
  return flags !== undefined && flags.some((flag) => NODE_COMPAT_FLAGS.includes(flag));
}

// Module name → the names it exports besides `default`: generated from the node chunk.
export { NODE_MODULE_EXPORTS };

const NODE_PREFIX = "node:";
const nodeBuiltins = new Set(builtinModules);
const isSupported = (name: string) => Object.prototype.hasOwnProperty.call(NODE_MODULE_EXPORTS, name);

/**
 * The internal module name ("node:<name>") a bare or `node:` specifier stands for, or undefined
 * when it names no Node built-in. A Node built-in that cannot be used (no flag, or outside the
 * supported set) is a WorkerCodeError naming the module.
 */
export function resolveNodeModule(specifier: string, referrer: string, nodeCompat: boolean): string | undefined {
  const prefixed = specifier.startsWith(NODE_PREFIX);
  const name = prefixed ? specifier.slice(NODE_PREFIX.length) : specifier;
  if (!prefixed && !nodeBuiltins.has(name) && !isSupported(name)) return undefined;
  if (!nodeCompat) {
    const unavailable = isSupported(name) ? "" : `, and the Node.js module "${name}" is not available in the sandbox even with it`;
    throw new WorkerCodeError(`cannot import "${specifier}": Node.js built-in modules need the "nodejs_compat" compatibility flag${unavailable}.`, referrer);
  }
  if (!isSupported(name)) {
    throw new WorkerCodeError(`cannot import "${specifier}": the Node.js module "${name}" is not available in the sandbox (nodejs_compat offers ${Object.keys(NODE_MODULE_EXPORTS).join(", ")}).`, referrer);
  }
  return NODE_PREFIX + name;
}

const sources = new Map<string, ModuleSource>();

/** The generated module for "node:<name>", or undefined for any other name. */
export function nodeModuleSource(moduleName: string): ModuleSource | undefined {
  if (!moduleName.startsWith(NODE_PREFIX)) return undefined;
  const name = moduleName.slice(NODE_PREFIX.length);
  if (!isSupported(name)) return undefined;
  let source = sources.get(name);
  if (source === undefined) {
    const names = NODE_MODULE_EXPORTS[name];
    source = {
      name: moduleName,
      internal: true,
      source: `import { nodeModule } from "islet:runtime"; const m = nodeModule(${JSON.stringify(name)}); export default m; export const { ${names.join(", ")} } = m;`,
    };
    sources.set(name, source);
  }
  return source;
}

/** Cloudflare's TCP sockets module: always importable; its connect() is refused unless globalOutbound has a connect method. */
export const SOCKETS_MODULE = "cloudflare:sockets";
const socketsSource: ModuleSource = {
  name: SOCKETS_MODULE,
  internal: true,
  source: `import { socketsModule } from "islet:runtime"; export const { connect } = socketsModule();`,
};

/** The generated module for "cloudflare:sockets", or undefined for any other name. */
export function socketsModuleSource(moduleName: string): ModuleSource | undefined {
  return moduleName === SOCKETS_MODULE ? socketsSource : undefined;
}
