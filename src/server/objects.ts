// Durable Objects over `islet serve`: `/v1/run` with `object: { namespace, id, class }` calls the
// object `id` of `namespace`, an instance of the request's class, with its own SQLite database.
// Each object is a facet (src/storage/facets.ts) of a host object of the server's, one per
// (API key, namespace, id): keys never reach each other's objects, and the data lives under the
// server's storage directory, so it outlives a restart. The code that runs an object is the
// latest the key sent for it: new code ends the running instance (its storage stays), as a
// deploy does on Cloudflare.

import type { WorkerCode, WorkerLoader, Limits } from "../index.ts";
import { DurableObjectNamespace } from "../storage/namespace.ts";
import { DurableObject } from "../workers.ts";
import type { DurableObjectClass } from "../loader/durable-object-class.ts";
import { describe, invalid, isPlainObject } from "./worker-spec.ts";
import { SERVER_OBJECT_FACET, SERVER_OBJECTS_NAMESPACE, serverObjectName } from "./object-names.ts";

/** `object` in a /v1/run body. */
export interface ObjectAddress {
  namespace: string;
  id: string;
  class: string;
}

const NAMESPACE = /^[\w.:-]{1,128}$/;
const CLASS_NAME = /^[A-Za-z_$][\w$]{0,127}$/;

export function parseObjectAddress(value: unknown): ObjectAddress {
  if (!isPlainObject(value)) throw invalid("object", `must be an object {namespace, id, class}, got ${describe(value)}`);
  for (const key of Object.keys(value)) if (!["namespace", "id", "class"].includes(key)) throw invalid(`object.${key}`, "unknown field (known: namespace, id, class)");
  const { namespace, id } = value;
  const className = value.class;
  if (typeof namespace !== "string" || !NAMESPACE.test(namespace)) throw invalid("object.namespace", "must be 1-128 letters, digits or . _ : -");
  if (typeof id !== "string" || id.length === 0 || id.length > 512 || !id.isWellFormed()) throw invalid("object.id", "must be a well-formed string of 1 to 512 characters");
  if (typeof className !== "string" || !CLASS_NAME.test(className)) throw invalid("object.class", "must be the name of the class the modules export (an identifier)");
  return { namespace, id, class: className };
}

const OBJECT_FACET = SERVER_OBJECT_FACET;

/** The server's host object of one (key, namespace, id): it runs the object's class as its facet. */
class ObjectParent extends DurableObject {
  /** The digest of the code its facet runs (undefined before the first call). */
  #hash: string | undefined;

  facet(objectClass: DurableObjectClass, hash: string): object {
    if (this.#hash !== undefined && this.#hash !== hash) this.ctx.facets.abort(OBJECT_FACET, new Error("The object's code changed."));
    this.#hash = hash;
    return this.ctx.facets.get(OBJECT_FACET, () => ({ class: objectClass }));
  }

  end(): void {
    this.ctx.facets.abort(OBJECT_FACET, new Error("The object was evicted by its key's worker quota."));
    this.#hash = undefined;
  }
}

export interface ServerObjectsOptions {
  dir: string | undefined;
  storageMb: number;
  callTimeoutMs: number;
}

export class ServerObjects {
  readonly #namespace: DurableObjectNamespace<ObjectParent>;
  readonly #loader: WorkerLoader;

  constructor(loader: WorkerLoader, options: ServerObjectsOptions) {
    this.#loader = loader;
    this.#namespace = new DurableObjectNamespace(ObjectParent, {
      name: SERVER_OBJECTS_NAMESPACE,
      storage: options.dir === undefined ? undefined : { dir: options.dir },
      storageMb: options.storageMb,
      facets: { storageMb: options.storageMb, callTimeoutMs: options.callTimeoutMs },
    });
  }

  #parent(keyId: string, address: ObjectAddress) {
    return this.#namespace.getByName(serverObjectName(keyId, address.namespace, address.id));
  }

  /** A stub of the object, running `code`'s class (the worker of that code is shared by the key's objects of it). */
  async target(keyId: string, address: ObjectAddress, code: WorkerCode, hash: string, limits: Limits): Promise<Record<string, (...args: unknown[]) => Promise<unknown>>> {
    const worker = this.#loader.get(`object:${keyId}:${hash}`, () => code);
    const objectClass = worker.getDurableObjectClass(address.class, { limits });
    return (await this.#parent(keyId, address).facet(objectClass, hash)) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  }

  /** Ends the object's running instance (its storage stays). */
  end(keyId: string, address: ObjectAddress): void {
    void this.#parent(keyId, address)
      .end()
      .catch(() => {});
  }

  close(): void {
    this.#namespace.close();
  }
}
