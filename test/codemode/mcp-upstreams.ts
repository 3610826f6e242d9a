// The real upstream MCP servers from npm the MCP tests start (offline, over stdio), and the
// config entries that start them. Each is run with this Node binary so PATH lookups play no part.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

export const serverScripts = {
  memory: join(root, "node_modules/@modelcontextprotocol/server-memory/dist/index.js"),
  filesystem: join(root, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js"),
  everything: join(root, "node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
  github: join(root, "node_modules/@modelcontextprotocol/server-github/dist/index.js"),
};

export const repoRoot = root;

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `islet-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function memoryServer(memoryFile: string) {
  return { command: process.execPath, args: [serverScripts.memory], env: { MEMORY_FILE_PATH: memoryFile } };
}

export function filesystemServer(folder: string) {
  return { command: process.execPath, args: [serverScripts.filesystem, folder] };
}

export function everythingServer(env: Record<string, string> = {}) {
  return { command: process.execPath, args: [serverScripts.everything, "stdio"], env };
}
