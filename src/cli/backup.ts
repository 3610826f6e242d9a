// `islet backup` and `islet restore`: copies of the SQLite databases under a data directory (the
// Durable Objects', facets' and `islet serve` objects'), made with SQLite's online backup, so a
// server may keep writing meanwhile: each copy is one consistent state of its database.

import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { backup, DatabaseSync } from "node:sqlite";
import { hashName, idFromName } from "../storage/object-id.ts";
import { childFacetKey, FACET_TREE_FILE, FACET_TREE_SCHEMA, rootFacetKey } from "../storage/facet-keys.ts";
import { SERVER_OBJECT_FACET, SERVER_OBJECTS_NAMESPACE, serverObjectName } from "../server/object-names.ts";
import { CliError, flags } from "./common.ts";

export const backupUsage = `islet backup — copy a data directory's databases while they are in use

Usage:
  islet backup <data-dir> <backup-dir> [--object <key>/<namespace>/<id>]
  islet restore <backup-dir> <data-dir> [--force]

backup copies every SQLite database under <data-dir> (a DurableObjectNamespace's storage.dir, or
islet serve's storage.dir / ISLET_DATA_DIR) into <backup-dir>, which must be new or empty, with
SQLite's online backup: a server may go on writing, and each copy is one committed state.
--object copies one islet serve object only (API key id, namespace and id, as in /v1/run's object):
its database and its facets' at every depth (the facets its code made with ctx.facets), with their
rows of the facet index. restore copies a backup into <data-dir>; stop the server first. It refuses
to replace a database that is already there unless --force; a backup's facet index is merged into
the one there.`;

/** Every database file under `dir` (not its -wal and -shm companions), as paths relative to it. */
function databases(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith(".sqlite")) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found.sort();
}

function checkEmpty(dir: string): void {
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) throw new CliError(`${dir} must be a new or empty directory`);
}

async function copyDatabase(from: string, to: string): Promise<void> {
  mkdirSync(dirname(to), { recursive: true });
  const source = new DatabaseSync(from, { readOnly: true });
  try {
    await backup(source, to);
  } finally {
    source.close();
  }
}

type IndexRow = { parent: string; name: string; root: string };

/**
 * One islet serve object: its host object's database, its facet's, and the databases of every
 * facet under them at every depth (nested facets its code made), found in the storage process's
 * facet index; with the index rows that say which facet has which, so that after a restore
 * delete() and clone() of a facet reach its facets, and they count against the limits, as before.
 */
function objectFiles(dataDir: string, spec: string): { files: string[]; index?: { file: string; rows: IndexRow[] } } {
  const parts = spec.split("/");
  if (parts.length < 3) throw new CliError(`--object: give <key>/<namespace>/<id>, got "${spec}"`);
  const [key, namespace, ...rest] = parts;
  const objectKey = idFromName(SERVER_OBJECTS_NAMESPACE, serverObjectName(key, namespace, rest.join("/"))).toString();
  const namespaceDir = `ns-${hashName(SERVER_OBJECTS_NAMESPACE)}`;
  const facetFile = (database: string) => join(namespaceDir, "facets", `${hashName(database)}.sqlite`);
  const files = [join(namespaceDir, `${objectKey}.sqlite`), facetFile(rootFacetKey(objectKey, SERVER_OBJECT_FACET))];
  const indexFile = join(namespaceDir, "facets", FACET_TREE_FILE);
  if (!existsSync(join(dataDir, indexFile))) return { files };
  const db = new DatabaseSync(join(dataDir, indexFile), { readOnly: true });
  try {
    const children = db.prepare("SELECT parent, name, root FROM children WHERE parent = ? ORDER BY name");
    const rows: IndexRow[] = [];
    // The object's own facets (the server's runs its class; an index may lack it), then theirs, at every depth.
    const walk = (parent: string, keyOf: (name: string) => string) => {
      for (const row of children.all(parent) as IndexRow[]) {
        rows.push({ parent: row.parent, name: row.name, root: row.root });
        const database = keyOf(row.name);
        if (!files.includes(facetFile(database))) files.push(facetFile(database));
        walk(database, (name) => childFacetKey(database, name));
      }
    };
    walk(objectKey, (name) => rootFacetKey(objectKey, name));
    if (!rows.some((row) => row.parent === objectKey && row.name === SERVER_OBJECT_FACET)) {
      const database = rootFacetKey(objectKey, SERVER_OBJECT_FACET);
      walk(database, (name) => childFacetKey(database, name));
    }
    return { files, index: rows.length === 0 ? undefined : { file: indexFile, rows } };
  } finally {
    db.close();
  }
}

/** Index rows into the facet index at `path` (made when missing); rows it has already stay. */
function mergeIndex(path: string, rows: IndexRow[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(FACET_TREE_SCHEMA);
    const add = db.prepare("INSERT OR IGNORE INTO children (parent, name, root) VALUES (?, ?, ?)");
    db.exec("BEGIN");
    for (const row of rows) add.run(row.parent, row.name, row.root);
    db.exec("COMMIT");
  } finally {
    db.close();
  }
}

/** A facet index (storage-child.ts), which restore merges rather than replaces. */
function isIndex(file: string): boolean {
  return file === FACET_TREE_FILE || file.endsWith(`/${FACET_TREE_FILE}`);
}

export async function backupCommand(argv: string[]): Promise<void> {
  const { values, positionals } = flags(() => parseArgs({ args: argv, allowPositionals: true, options: { object: { type: "string" }, help: { type: "boolean", short: "h" } } }), "backup");
  if (values.help) return void console.log(backupUsage);
  if (positionals.length !== 2) throw new CliError(`islet backup takes a data directory and a backup directory.\n\n${backupUsage}`);
  const [dataDir, backupDir] = positionals.map((p) => resolve(p));
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new CliError(`${dataDir} is not a directory`);
  checkEmpty(backupDir);
  const object = values.object === undefined ? undefined : objectFiles(dataDir, values.object);
  const files = object === undefined ? databases(dataDir) : object.files.filter((file) => existsSync(join(dataDir, file)));
  if (files.length === 0) throw new CliError(values.object === undefined ? `no databases under ${dataDir}` : `no object ${values.object} under ${dataDir}`);
  for (const file of files) await copyDatabase(join(dataDir, file), join(backupDir, file));
  // The object's rows of the facet index only: restore merges them into the index it finds.
  if (object?.index !== undefined) mergeIndex(join(backupDir, object.index.file), object.index.rows);
  console.log(`backed up ${files.length} database${files.length === 1 ? "" : "s"} to ${backupDir}`);
}

export async function restoreCommand(argv: string[]): Promise<void> {
  const { values, positionals } = flags(() => parseArgs({ args: argv, allowPositionals: true, options: { force: { type: "boolean" }, help: { type: "boolean", short: "h" } } }), "restore");
  if (values.help) return void console.log(backupUsage);
  if (positionals.length !== 2) throw new CliError(`islet restore takes a backup directory and a data directory.\n\n${backupUsage}`);
  const [backupDir, dataDir] = positionals.map((p) => resolve(p));
  if (!existsSync(backupDir) || !statSync(backupDir).isDirectory()) throw new CliError(`${backupDir} is not a directory`);
  const all = databases(backupDir);
  const files = all.filter((file) => !isIndex(file));
  const indexes = all.filter(isIndex);
  if (files.length === 0) throw new CliError(`no databases under ${backupDir}`);
  if (values.force !== true) {
    const clash = files.find((file) => existsSync(join(dataDir, file)));
    if (clash !== undefined) throw new CliError(`${join(dataDir, clash)} exists; stop the server and pass --force to replace it`);
  }
  for (const file of files) {
    const to = join(dataDir, file);
    mkdirSync(dirname(to), { recursive: true });
    // A replaced database's WAL must not be replayed over the restored file.
    for (const suffix of ["-wal", "-shm"]) rmSync(to + suffix, { force: true });
    copyFileSync(join(backupDir, file), to);
  }
  // A facet index is merged: the data directory's may hold other objects' rows.
  for (const file of indexes) {
    const from = new DatabaseSync(join(backupDir, file), { readOnly: true });
    let rows: IndexRow[];
    try {
      rows = from.prepare("SELECT parent, name, root FROM children").all() as IndexRow[];
    } finally {
      from.close();
    }
    mergeIndex(join(dataDir, file), rows);
  }
  console.log(`restored ${files.length} database${files.length === 1 ? "" : "s"} into ${dataDir}`);
}
