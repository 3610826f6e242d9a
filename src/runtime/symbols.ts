// Symbol.dispose / Symbol.asyncDispose for explicit resource management (stubs are disposable).
// This V8 predates them; define them the way Node 20 does, before anything captures them.

import { primordials } from "./primordials.ts";

const { ObjectDefineProperty } = primordials;

const symbols = Symbol as unknown as { dispose?: symbol; asyncDispose?: symbol };
if (symbols.dispose === undefined) ObjectDefineProperty(Symbol, "dispose", { value: Symbol("Symbol.dispose") });
if (symbols.asyncDispose === undefined) ObjectDefineProperty(Symbol, "asyncDispose", { value: Symbol("Symbol.asyncDispose") });

export const disposeSymbol: symbol = symbols.dispose!;
