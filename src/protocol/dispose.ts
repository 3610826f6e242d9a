// Symbol.dispose / Symbol.asyncDispose, the one definition both sides use (stubs are disposable).
// Node has them; the isolate's V8 may predate them: they are defined the way Node 20 does, before
// anything captures them (the runtime's core imports this before user code runs). Defined
// non-writable and non-configurable, so a lazily loaded chunk reading Symbol.dispose later reads
// this same symbol whatever user code did.
//
// This file is part of src/protocol: it imports nothing.

const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
const defineProperty = Object.defineProperty;
if (symbols.dispose === undefined) defineProperty(Symbol, "dispose", { value: Symbol("Symbol.dispose") });
if (symbols.asyncDispose === undefined) defineProperty(Symbol, "asyncDispose", { value: Symbol("Symbol.asyncDispose") });

export const disposeSymbol: symbol = symbols.dispose!;
export const asyncDisposeSymbol: symbol = symbols.asyncDispose!;
