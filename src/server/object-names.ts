// How islet serve names its Durable Objects (src/server/objects.ts), shared with `islet backup`,
// which finds one object's files by the same names.

/** The server's DurableObjectNamespace of host objects. */
export const SERVER_OBJECTS_NAMESPACE = "islet-serve-objects";

/** The facet of each host object that runs the object's class. */
export const SERVER_OBJECT_FACET = "object";

/** The host object's name for (API key, namespace, id): keys and namespaces never share one. */
export function serverObjectName(keyId: string, namespace: string, id: string): string {
  return `${keyId}\u0000${namespace}\u0000${id}`;
}
