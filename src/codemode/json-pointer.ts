// JSON Pointer (RFC 6901), as `$ref`s use it after the "#".

/** Follows a JSON Pointer (RFC 6901) from `root`; undefined when any step is missing. */
export function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === "") return root;
  if (!pointer.startsWith("/")) return undefined;
  let node = root;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) node = /^(0|[1-9][0-9]*)$/.test(key) ? node[Number(key)] : undefined;
    else if (typeof node === "object" && node !== null) node = Object.prototype.hasOwnProperty.call(node, key) ? (node as Record<string, unknown>)[key] : undefined;
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}
