// Resolution of import specifiers (and CommonJS require() specifiers) to module names.

import { WorkerCodeError } from "../../errors.ts";
import { resolveNodeModule, SOCKETS_MODULE } from "../node-compat.ts";
import { parsePackageSpecifier } from "./package-names.ts";
import type { PackageImports } from "./packages.ts";
import type { PreparedCode } from "./types.ts";

/**
 * A CommonJS module is two ES modules (see commonjs.ts): its own name holds the user's code
 * (so stack traces name it), wrapped in a function that runs on the first require(); and a
 * generated "face" that ES importers get, which runs it and exports module.exports. These
 * prefixes cannot start a user module's name (normalizeName refuses a scheme).
 */
export const REQUIRE_PREFIX = "islet:require:";
export const FACE_PREFIX = "islet:import:";
/** A package bundle's module name starts with it (packages.ts). */
export const PACKAGE_PREFIX = "npm:";

/** A scheme ("node:", "npm:", "islet:…") starts no user module's name (normalizeName refuses one). */
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * Resolves an import specifier relative to the importing module. Besides exact names, a `.js`
 * import finds a `.ts` module of the same name (TypeScript's convention) and an extension-less
 * import finds `.js` / `.ts`. A bare name is the worker's own module of exactly that name if there
 * is one, else a Node built-in ("node:<name>", see node-compat.ts; `node:` always means Node's),
 * else an npm package the host allows (packages.ts): its bundle, or the error that kept it from
 * being bundled. A package named like a built-in is used only where the built-in is not available.
 */
export function resolveSpecifier(specifier: string, referrer: string, names: { has(name: string): boolean }, nodeCompat = false, packages?: PackageImports): string {
  if (!specifier.startsWith("./") && !specifier.startsWith("../") && !specifier.startsWith("/")) {
    if (specifier === SOCKETS_MODULE) return specifier;
    if (!SCHEME.test(specifier) && names.has(specifier)) return specifier;
    let unavailable: unknown;
    try {
      const nodeModule = resolveNodeModule(specifier, referrer, nodeCompat);
      if (nodeModule !== undefined) return nodeModule;
    } catch (error) {
      unavailable = error;
    }
    const pkg = packages?.get(specifier);
    if (pkg !== undefined) {
      if ("error" in pkg) throw new WorkerCodeError(pkg.error, referrer);
      return pkg.name;
    }
    if (unavailable !== undefined) throw unavailable;
    const parsed = parsePackageSpecifier(specifier);
    // A package's name with a subpath that could escape its directory: said so, whatever the host allows.
    if ("problem" in parsed && parsed.name !== undefined) throw new WorkerCodeError(`cannot import "${specifier}": ${parsed.problem}.`, referrer);
    const hint = "problem" in parsed ? "" : ` A host allows an installed package with new WorkerLoader({ packages: [${JSON.stringify(parsed.name)}] }).`;
    throw new WorkerCodeError(
      `cannot import "${specifier}": only relative imports of the worker's own modules, "cloudflare:workers", "cloudflare:sockets", Node.js built-ins (with nodejs_compat) and the npm packages the host allows are available, and "${specifier}" is none of them.${hint}`,
      referrer,
    );
  }
  const base = specifier.startsWith("/") ? [] : referrer.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (base.length === 0) throw new WorkerCodeError(`cannot import "${specifier}": it points outside the worker's modules.`, referrer);
      base.pop();
    } else base.push(part);
  }
  const target = base.join("/");
  const candidates = [target, target.replace(/\.js$/, ".ts"), target.replace(/\.mjs$/, ".mts"), `${target}.js`, `${target}.ts`, `${target}/index.js`, `${target}/index.ts`];
  for (const candidate of candidates) if (names.has(candidate)) return candidate;
  throw new WorkerCodeError(`cannot resolve import "${specifier}": no module named "${target}".`, referrer);
}

/**
 * What the engine links an import of `referrer` to: resolveSpecifier's answer, except that an ES
 * import of a CommonJS module gets its face, and the generated `islet:require:` imports (from
 * CommonJS code and faces only) get the CommonJS module itself.
 */
export function resolveImport(specifier: string, referrer: string, code: PreparedCode): string {
  if (specifier.startsWith(REQUIRE_PREFIX)) {
    const target = specifier.slice(REQUIRE_PREFIX.length);
    const fromCommonJs = code.modules.get(referrer)?.kind === "cjs" || referrer.startsWith(FACE_PREFIX);
    if (fromCommonJs && code.modules.get(target)?.kind === "cjs") return target;
    throw new WorkerCodeError(`cannot import "${specifier}": it is internal to islet.`, userModuleName(referrer));
  }
  const target = resolveSpecifier(specifier, referrer, code.modules, code.nodeCompat, code.packages);
  return code.modules.get(target)?.kind === "cjs" ? FACE_PREFIX + target : target;
}

/** The user's name of a module the engine knows by a generated name (a CommonJS module's face). */
export function userModuleName(name: string): string {
  return name.startsWith(FACE_PREFIX) ? name.slice(FACE_PREFIX.length) : name;
}
