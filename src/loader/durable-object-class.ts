// What WorkerStub.getDurableObjectClass() returns: a Durable Object class of a dynamic worker, to
// be run as a facet of a host Durable Object (src/storage/facets.ts). On the host it is an opaque
// token: what it stands for is kept here, out of reach of whoever holds it.

import type { GetCode } from "./backend.ts";
import type { Limits } from "./limits.ts";
import type { WorkerLoader } from "./worker-loader.ts";

export interface DurableObjectClassOptions {
  /** `ctx.props` inside the facet. */
  props?: unknown;
  /** The facet's calls' limits (each only lowers the loader's). */
  limits?: Limits;
}

/** @internal What a class token stands for. */
export interface ClassData {
  loader: WorkerLoader;
  getCode: GetCode;
  exportName: string;
  props: unknown;
  limits: Limits | undefined;
}

const classes = new WeakMap<object, ClassData>();

/** A dynamic worker's Durable Object class; pass it to `ctx.facets.get(name, () => ({ class }))`. */
export class DurableObjectClass {
  /** The worker's export this class is. */
  readonly exportName: string;

  /** @internal */
  constructor(data: ClassData) {
    this.exportName = data.exportName;
    classes.set(this, data);
    Object.freeze(this);
  }
}

/** @internal For src/storage/facets.ts: what a class token stands for. */
export function durableObjectClassData(value: unknown): ClassData | undefined {
  return typeof value === "object" && value !== null ? classes.get(value) : undefined;
}
