// `islet backup` and `islet restore`: copies of the SQLite databases under a data directory (the
// Durable Objects', facets' and `islet serve` objects'), made with SQLite's online backup, so a
// server may keep writing meanwhile: each copy is one consistent state of its database.

import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { backup, DatabaseSync } from "node:sqlite";
import { hashName, idFromName } from "../storage/object-id.ts";
import { SERVER_OBJECT_FACET, SERVER_OBJECTS_NAMESPACE, serverObjectName } from "../server/object-names.ts";
import { CliError, flags } from "./common.ts";

export const backupUsage = `islet backup — copy a data directory's databases while they are in use

Usage:
  islet backup <data-dir> <backup-dir> [--object <key>/<namespace>/<id>]
  islet restore <backup-dir> <data-dir> [--force]

backup copies every SQLite database under <data-dir> (a DurableObjectNamespace's storage.dir, or
islet serve's storage.dir / ISLET_DATA_DIR) into <backup-dir>, which must be new or empty, with
SQLite's online backup: a server may go on writing, and each copy is one committed state.
--object copies one islet serve object only (API key id, namespace and id, as in /v1/run's object).
restore copies a backup into <data-dir>; stop the server first. It refuses to replace a database
that is already there unless --force.`;

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

/** The files of one islet serve object: its host object's database and its facet's. */
function objectFiles(spec: string): string[] {
  const parts = spec.split("/");
  if (parts.length < 3) throw new CliError(`--object: give <key>/<namespace>/<id>, got "${spec}"`);
  const [key, namespace, ...rest] = parts;
  const parentKey = idFromName(SERVER_OBJECTS_NAMESPACE, serverObjectName(key, namespace, rest.join("/"))).toString();
  const namespaceDir = `ns-${hashName(SERVER_OBJECTS_NAMESPACE)}`;
  return [join(namespaceDir, `${parentKey}.sqlite`), join(namespaceDir, "facets", `${hashName(`${parentKey}\u0000${SERVER_OBJECT_FACET}`)}.sqlite`)];
}

export async function backupCommand(argv: string[]): Promise<void> {
  const { values, positionals } = flags(() => parseArgs({ args: argv, allowPositionals: true, options: { object: { type: "string" }, help: { type: "boolean", short: "h" } } }), "backup");
  if (values.help) return void console.log(backupUsage);
  if (positionals.length !== 2) throw new CliError(`islet backup takes a data directory and a backup directory.\n\n${backupUsage}`);
  const [dataDir, backupDir] = positionals.map((p) => resolve(p));
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new CliError(`${dataDir} is not a directory`);
  checkEmpty(backupDir);
  const files = values.object === undefined ? databases(dataDir) : objectFiles(values.object).filter((file) => existsSync(join(dataDir, file)));
  if (files.length === 0) throw new CliError(values.object === undefined ? `no databases under ${dataDir}` : `no object ${values.object} under ${dataDir}`);
  for (const file of files) await copyDatabase(join(dataDir, file), join(backupDir, file));
  console.log(`backed up ${files.length} database${files.length === 1 ? "" : "s"} to ${backupDir}`);
}

export async function restoreCommand(argv: string[]): Promise<void> {
  const { values, positionals } = flags(() => parseArgs({ args: argv, allowPositionals: true, options: { force: { type: "boolean" }, help: { type: "boolean", short: "h" } } }), "restore");
  if (values.help) return void console.log(backupUsage);
  if (positionals.length !== 2) throw new CliError(`islet restore takes a backup directory and a data directory.\n\n${backupUsage}`);
  const [backupDir, dataDir] = positionals.map((p) => resolve(p));
  if (!existsSync(backupDir) || !statSync(backupDir).isDirectory()) throw new CliError(`${backupDir} is not a directory`);
  const files = databases(backupDir);
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
  console.log(`restored ${files.length} database${files.length === 1 ? "" : "s"} into ${dataDir}`);
}
