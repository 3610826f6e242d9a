// quickjs-emscripten: a WebAssembly interpreter. Fresh runtime + context per task, the same module.

import { getQuickJS, type QuickJSWASMModule } from "quickjs-emscripten";
import { COMPUTE_FUNCTION, GREET_SOURCE } from "../fixtures.ts";
import { now, type Subject } from "../stats.ts";

let qjs: QuickJSWASMModule | undefined;
const quickjs = async () => (qjs ??= await getQuickJS());

/** New runtime + context, evaluate the module, call greet, dispose the handles, context and runtime: all timed. */
export function quickjsFresh(perRound: number): Subject {
  let q: QuickJSWASMModule;
  return {
    name: "quickjs-emscripten",
    perRound,
    async setup() {
      q = await quickjs();
      if (once(q) !== "hi x") throw new Error("quickjs: unexpected answer");
    },
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = now();
        const answer = once(q);
        out.push(now() - t);
        if (answer !== "hi x") throw new Error("quickjs: unexpected answer");
      }
      return out;
    },
  };
}

function once(q: QuickJSWASMModule): string {
  const rt = q.newRuntime();
  const ctx = rt.newContext();
  try {
    const ns = ctx.unwrapResult(ctx.evalCode(GREET_SOURCE, "w.js", { type: "module" }));
    const def = ctx.getProp(ns, "default");
    const greet = ctx.getProp(def, "greet");
    const arg = ctx.newString("x");
    const res = ctx.unwrapResult(ctx.callFunction(greet, def, arg));
    const value = ctx.getString(res);
    for (const h of [res, arg, greet, def, ns]) h.dispose();
    return value;
  } finally {
    ctx.dispose();
    rt.dispose();
  }
}

/** The compute workload in one long-lived QuickJS context (an interpreter: expect it slow). */
export function quickjsCompute(perRound: number): Subject {
  let rt: ReturnType<QuickJSWASMModule["newRuntime"]>;
  let ctx: ReturnType<typeof rt.newContext>;
  let seed = 1;
  return {
    name: "quickjs-emscripten",
    perRound,
    async setup() {
      rt = (await quickjs()).newRuntime();
      rt.setMemoryLimit(512 * 1024 * 1024);
      ctx = rt.newContext();
      ctx.unwrapResult(ctx.evalCode(COMPUTE_FUNCTION + "\nglobalThis.compute = compute;")).dispose();
    },
    async sample(count) {
      const out: number[] = [];
      for (let i = 0; i < count; i++) {
        const t = now();
        ctx.unwrapResult(ctx.evalCode(`compute(${seed++})`)).dispose();
        out.push(now() - t);
      }
      return out;
    },
    async teardown() {
      ctx?.dispose();
      rt?.dispose();
    },
  };
}
