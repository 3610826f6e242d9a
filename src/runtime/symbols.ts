// Symbol.dispose / Symbol.asyncDispose for explicit resource management (stubs are disposable):
// defined once, in src/protocol/dispose.ts, where this V8 predates them.

export { disposeSymbol, asyncDisposeSymbol } from "../protocol/dispose.ts";
