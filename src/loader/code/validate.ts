// Checks of a WorkerCode's shape (it is untrusted in shape as well as content) and of module names.

import { WorkerCodeError } from "../../errors.ts";
import { validateCodeLimits } from "../limits.ts";
import { checkCompatibility } from "./compatibility.ts";
import type { WorkerCode } from "./types.ts";
import { isStreamingTail } from "../tail-streams.ts";

export const MAX_MODULES = 1_000;
export const MAX_CODE_BYTES = 64 * 1024 * 1024;

export function validateWorkerCode(code: unknown): asserts code is WorkerCode {
  if (code === null || typeof code !== "object") throw new WorkerCodeError("WorkerCode must be an object.");
  const c = code as Record<string, unknown>;
  if (typeof c.compatibilityDate !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(c.compatibilityDate)) {
    throw new WorkerCodeError('compatibilityDate must be a date string like "2026-01-01".');
  }
  if (c.compatibilityFlags !== undefined && (!Array.isArray(c.compatibilityFlags) || !c.compatibilityFlags.every((f) => typeof f === "string"))) {
    throw new WorkerCodeError("compatibilityFlags must be an array of strings.");
  }
  if (c.allowExperimental !== undefined && typeof c.allowExperimental !== "boolean") throw new WorkerCodeError("allowExperimental must be a boolean.");
  checkCompatibility(c.compatibilityDate, c.compatibilityFlags as string[] | undefined, c.allowExperimental === true);
  if (c.modules === null || typeof c.modules !== "object" || Array.isArray(c.modules)) throw new WorkerCodeError("modules must be an object mapping names to module contents.");
  if (typeof c.mainModule !== "string" || c.mainModule === "") throw new WorkerCodeError("mainModule must be a non-empty string naming one of the modules.");
  if (!Object.prototype.hasOwnProperty.call(c.modules, c.mainModule)) throw new WorkerCodeError(`mainModule "${c.mainModule}" is not one of the modules.`);
  if (c.env !== undefined && (c.env === null || typeof c.env !== "object")) throw new WorkerCodeError("env must be an object.");
  if (c.tails !== undefined && !Array.isArray(c.tails)) throw new WorkerCodeError("tails must be an array.");
  if (c.streamingTails !== undefined && (!Array.isArray(c.streamingTails) || !c.streamingTails.every(isStreamingTail))) {
    throw new WorkerCodeError("streamingTails must be an array of functions or objects with a tailStream method.");
  }
  if (c.packages !== undefined && (!Array.isArray(c.packages) || !c.packages.every((p) => typeof p === "string"))) throw new WorkerCodeError("packages must be an array of strings.");
  validateCodeLimits(c.limits);
  if (c.globalOutbound !== undefined && c.globalOutbound !== null && !isOutbound(c.globalOutbound)) {
    throw new WorkerCodeError("globalOutbound must be null, a function or an object with a fetch or connect method.");
  }
}

export function normalizeName(name: string): string {
  if (name === "" || name.length > 1024) throw new WorkerCodeError("Module names must be 1 to 1024 characters long.", name);
  if (/[\0-\x1f\\]/.test(name)) throw new WorkerCodeError("Module names may not contain control characters or backslashes.", name);
  if (name.startsWith("/") || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(name)) throw new WorkerCodeError("Module names must be relative paths like \"src/index.js\".", name);
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") throw new WorkerCodeError('Module names may not contain "..".', name);
    parts.push(part);
  }
  return parts.join("/");
}

/** globalOutbound's shapes: a function (fetch only), or an object with fetch and/or connect (Cloudflare's Fetcher). */
export function isOutbound(value: unknown): boolean {
  if (typeof value === "function") return true;
  if (value === null || typeof value !== "object") return false;
  const { fetch, connect } = value as { fetch?: unknown; connect?: unknown };
  return typeof fetch === "function" || (typeof connect === "function" && fetch === undefined);
}
