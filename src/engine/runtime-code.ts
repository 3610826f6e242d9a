// The in-isolate runtime bundle, built by scripts/build.mjs. V8 code cache for it is produced by
// this process on first use and reused: cached data never comes from anywhere else.

import { readFileSync } from "node:fs";
import ivm from "isolated-vm";

let source: string | undefined;
let cachedData: ivm.ExternalCopy<ArrayBuffer> | undefined;

export function runtimeSource(): string {
  if (source === undefined) {
    const url = new URL("../../dist/runtime.js", import.meta.url);
    try {
      source = readFileSync(url, "utf8");
    } catch {
      throw new Error(`islet: the in-isolate runtime is not built (${url.pathname} is missing). Run: npm run build`);
    }
  }
  return source;
}

export function compileRuntime(isolate: ivm.Isolate): ivm.Script {
  const script = isolate.compileScriptSync(runtimeSource(), {
    filename: "islet:runtime",
    cachedData,
    produceCachedData: cachedData === undefined,
  });
  const produced = (script as unknown as { cachedData?: ivm.ExternalCopy<ArrayBuffer> }).cachedData;
  if (cachedData === undefined && produced !== undefined) cachedData = produced;
  return script;
}
