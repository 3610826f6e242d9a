// How facets' databases are named in the storage process (src/storage/facets.ts names them, the
// storage process hashes each name into its file's name: a name never becomes a path).
//
// - A facet of a host object: the object's id (64 hex digits), NUL, the facet's name, as islet has
//   always named them (so existing data stays where it is).
// - A nested facet (a facet's own ctx.facets, as workerd allows): the object's id, U+0001, then the
//   JSON array of the names from the host object's facet down to it. JSON.stringify of an array of
//   strings is one-to-one and escapes every control character, so no nested name equals another,
//   nor any host object's facet's (whose 65th character is NUL).
//
// Depth counts the host object as 1, as workerd does ("the maximum depth including the root Durable
// Object is 4"): its facets are at 2, theirs at 3, theirs at 4, which can have none.

export { FACET_DEPTH_MESSAGE, MAX_FACET_DEPTH } from "../protocol/facets.ts";

/**
 * Nested facets under one host object's facet, at every depth together (the storage process's
 * index refuses more): what that facet's untrusted code can make the storage process keep. workerd
 * allows 65,535 facets per object.
 */
export const MAX_NESTED_FACETS = 1_000;

const OBJECT_KEY = /^[0-9a-f]{64}$/;

/**
 * The storage process's index of facets (storage-child.ts), beside the facets' databases: one row
 * per (parent, name), the parent a host object's id for its own facets, else the database name of
 * the facet whose facet it is; `root` is what the row counts under (maxNestedFacets). `islet
 * backup --object` reads it to find an object's whole facet tree.
 */
export const FACET_TREE_FILE = "facet-tree.sqlite";
export const FACET_TREE_SCHEMA =
  "CREATE TABLE IF NOT EXISTS children (parent TEXT NOT NULL, name TEXT NOT NULL, root TEXT NOT NULL, PRIMARY KEY (parent, name)) WITHOUT ROWID; CREATE INDEX IF NOT EXISTS children_root ON children (root)";

/** The database of facet `name` of the host object `objectKey`. */
export function rootFacetKey(objectKey: string, name: string): string {
  return `${objectKey}\u0000${name}`;
}

/** What a facet's database name says: the host object it belongs to and the names down to it. */
export function facetPath(key: string): { object: string; names: string[] } | undefined {
  const object = key.slice(0, 64);
  if (!OBJECT_KEY.test(object)) return undefined;
  if (key[64] === "\u0000") return { object, names: [key.slice(65)] };
  if (key[64] !== "\u0001") return undefined;
  try {
    const names = JSON.parse(key.slice(65)) as unknown;
    if (!Array.isArray(names) || names.length < 2 || names.some((name) => typeof name !== "string")) return undefined;
    return { object, names: names as string[] };
  } catch {
    return undefined;
  }
}

/** The database of facet `name` of the facet whose database is `parentKey`. */
export function childFacetKey(parentKey: string, name: string): string {
  const path = facetPath(parentKey);
  if (path === undefined) throw new TypeError("not a facet's database name");
  return `${path.object}\u0001${JSON.stringify([...path.names, name])}`;
}

/** The database of the facet a nested facet's database belongs to (undefined for a host object's facet). */
export function parentFacetKey(key: string): string | undefined {
  const path = facetPath(key);
  if (path === undefined || path.names.length < 2) return undefined;
  const names = path.names.slice(0, -1);
  return names.length === 1 ? rootFacetKey(path.object, names[0]!) : `${path.object}\u0001${JSON.stringify(names)}`;
}

/** The database of the host object's facet a facet's database is under (itself for such a facet). */
export function rootOfFacet(key: string): string | undefined {
  const path = facetPath(key);
  return path === undefined ? undefined : rootFacetKey(path.object, path.names[0]!);
}

/** The depth of the facet whose database is `key` (2 for a host object's facet), or undefined. */
export function facetDepth(key: string): number | undefined {
  const path = facetPath(key);
  return path === undefined ? undefined : path.names.length + 1;
}
