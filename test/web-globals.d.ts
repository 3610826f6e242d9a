// Names the tests use that TypeScript's "DOM" lib declares and @types/node does not: tsconfig.test.json
// leaves "DOM" out (it would retype fetch, Response and BodyInit in src/ too), so they are defined here
// from Node's own types. Node has all of these at run time; this file only names them.

type BlobPart = ConstructorParameters<typeof Blob>[0][number];
type BlobPropertyBag = NonNullable<ConstructorParameters<typeof Blob>[1]>;
type BodyInit = NonNullable<ConstructorParameters<typeof Response>[0]>;
type EventInit = NonNullable<ConstructorParameters<typeof Event>[1]>;
type AddEventListenerOptions = Exclude<Parameters<EventTarget["addEventListener"]>[2], boolean | undefined>;
type EventListener = (event: Event) => void;
type Transformer<I = any, O = any> = import("node:stream/web").Transformer<I, O>;

// The WebAssembly JS API, which Node has as a global (the host-side security tests build modules,
// memories, tables, globals and instances to show the boundary refuses them).
declare namespace WebAssembly {
  interface Module {}
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  interface Memory {
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  interface Table {
    readonly length: number;
  }
  interface Global {
    value: unknown;
  }
  type ValueType = "i32" | "i64" | "f32" | "f64" | "v128" | "externref" | "anyfunc";
  var Module: { prototype: Module; new (bytes: ArrayBuffer | ArrayBufferView): Module };
  var Instance: { prototype: Instance; new (module: Module, imports?: Record<string, Record<string, unknown>>): Instance };
  var Memory: { prototype: Memory; new (descriptor: { initial: number; maximum?: number; shared?: boolean }): Memory };
  var Table: { prototype: Table; new (descriptor: { element: "anyfunc" | "externref"; initial: number; maximum?: number }, value?: unknown): Table };
  var Global: { prototype: Global; new (descriptor: { value: ValueType; mutable?: boolean }, value?: unknown): Global };
}
