// The worker's code, split by concern under ./code/: types.ts (WorkerCode and what preparation
// produces), validate.ts (shape and names), typescript.ts (transpile cache), commonjs.ts
// (CommonJS as ES modules), resolve.ts (specifiers to module names), prepare.ts (all of it
// together). This file only re-exports them, for imports written before the split.

export type { FetchRecord, Fetcher, ModuleContent, ModuleKind, PreparedCode, PreparedModule, TailEvent, TailReceiver, WorkerCode } from "./code/types.ts";
export { MAX_CODE_BYTES, MAX_MODULES, normalizeName, validateWorkerCode } from "./code/validate.ts";
export { transpileTypeScript, type Transpiled } from "./code/typescript.ts";
export { analyzeCommonJs, type CommonJsAnalysis } from "./code/commonjs.ts";
export { resolveImport, resolveSpecifier } from "./code/resolve.ts";
export { prepareModules } from "./code/prepare.ts";
