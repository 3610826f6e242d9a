// node:fs's basics over an in-memory file system, as workerd's node:fs is one: `/tmp` is writable
// and starts empty in every sandbox, `/bundle` and `/dev` exist and are read-only, and a write
// anywhere else is EPERM. Files live in the sandbox's heap, so its memory limit bounds them. The
// sync calls, their callback forms and fs/promises' versions cover reading, writing and appending
// files, existsSync, access, mkdir, readdir (names), stat/lstat, unlink, rm and rmdir; the rest of
// node:fs stays a named error (stubs.ts). No symlinks, permissions, file descriptors or streams;
// timestamps are 0 (the epoch): the sandbox's clock is not read.

import { from as bufferFrom } from "./buffer/buffer.ts";
import { normalizeEncoding, sliceString } from "./buffer/codecs.ts";
import { invalidArgType, nodeError } from "./errors.ts";
import { resolve } from "./path.ts";
import { primordials } from "../primordials.ts";

const { ArrayBufferIsView, ArrayBufferViewGetBuffer, ArrayBufferViewGetByteLength, ArrayBufferViewGetByteOffset, ArrayPrototypePush, ArrayPrototypeSort, Error, Map, MapPrototypeDelete, MapPrototypeGet, MapPrototypeGetSize, MapPrototypeSet, ObjectDefineProperty, ObjectKeys, PromisePrototypeThen, PromiseReject, PromiseResolve, SafeMapIterator, StringPrototypeSlice, StringPrototypeSplit, StringPrototypeStartsWith, TypedArrayPrototypeGetLength, TypedArrayPrototypeSet, Uint8Array, decodeURIComponent } = primordials;

interface FileNode {
  dir: false;
  data: Uint8Array;
  ino: number;
}
interface DirNode {
  dir: true;
  entries: Map<string, Node>;
  ino: number;
}
type Node = FileNode | DirNode;

let nextIno = 1;
const dir = (): DirNode => ({ dir: true, entries: new Map(), ino: nextIno++ });
const root = dir();
MapPrototypeSet(root.entries, "bundle", dir());
MapPrototypeSet(root.entries, "tmp", dir());
MapPrototypeSet(root.entries, "dev", dir());

const MESSAGES: Record<string, [errno: number, text: string]> = {
  ENOENT: [-2, "no such file or directory"],
  EEXIST: [-17, "file already exists"],
  ENOTDIR: [-20, "not a directory"],
  EISDIR: [-21, "illegal operation on a directory"],
  ENOTEMPTY: [-39, "directory not empty"],
  EPERM: [-1, "operation not permitted"],
};

/** Node's shape of a failed system call: `ENOENT: no such file or directory, open '/x'`. */
function fsError(code: string, syscall: string, path: string | undefined): Error {
  const message = MESSAGES[code];
  const errno = message[0];
  const text = message[1];
  const error = new Error(path === undefined ? `${code}: ${text}, ${syscall}` : `${code}: ${text}, ${syscall} '${path}'`);
  return withFields(error, { errno, code, syscall, path });
}

function withFields(error: Error, fields: Record<string, unknown>): Error {
  const keys = ObjectKeys(fields);
  for (let i = 0; i < keys.length; i++) {
    if (fields[keys[i]] === undefined) continue;
    ObjectDefineProperty(error, keys[i], { __proto__: null, value: fields[keys[i]], writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  }
  return error;
}

/** An absolute, normalised path from a string, a Buffer or a file: URL, as Node accepts them. */
function toPath(value: unknown, name = "path"): string {
  let path: string;
  if (typeof value === "string") path = value;
  else if (value instanceof Uint8Array) path = sliceString(value, 0, TypedArrayPrototypeGetLength(value), "utf8");
  else if (typeof value === "object" && value !== null && (value as { protocol?: unknown }).protocol === "file:" && typeof (value as { pathname?: unknown }).pathname === "string") {
    path = decodeURIComponent((value as { pathname: string }).pathname);
  } else throw invalidArgType(name, ["string", "Buffer", "URL"], value);
  return resolve(path);
}

function parts(path: string): string[] {
  const list = StringPrototypeSplit(StringPrototypeSlice(path, 1), "/");
  return list.length === 1 && list[0] === "" ? [] : list;
}

/** The node at `path`, or undefined; ENOTDIR when a file stands where a directory should. */
function lookup(path: string, syscall: string): Node | undefined {
  let node: Node = root;
  const names = parts(path);
  for (let i = 0; i < names.length; i++) {
    if (!node.dir) throw fsError("ENOTDIR", syscall, path);
    const next: Node | undefined = MapPrototypeGet(node.entries, names[i]);
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}

function writable(path: string): boolean {
  return StringPrototypeStartsWith(path, "/tmp/");
}

/** The directory that holds `path` and the entry's name, checked for a write. */
function parentOf(path: string, syscall: string): [DirNode, string] {
  if (!writable(path)) throw fsError("EPERM", syscall, path);
  const names = parts(path);
  const name = names[names.length - 1];
  const parent = lookup(resolve(path, ".."), syscall);
  if (parent === undefined) throw fsError("ENOENT", syscall, path);
  if (!parent.dir) throw fsError("ENOTDIR", syscall, path);
  return [parent, name];
}

function encodingOf(options: unknown): string | undefined {
  const encoding = typeof options === "string" ? options : typeof options === "object" && options !== null ? (options as { encoding?: unknown }).encoding : undefined;
  if (encoding === undefined || encoding === null || encoding === "buffer") return undefined;
  const normal = normalizeEncoding(encoding);
  if (normal === undefined) throw nodeError(primordials.TypeError, "ERR_INVALID_ARG_VALUE", `The argument 'encoding' is invalid encoding. Received '${encoding}'`);
  return normal;
}

function bytesOf(data: unknown, options: unknown): Uint8Array {
  if (typeof data === "string") return bufferFrom(data, encodingOf(options) ?? "utf8");
  if (ArrayBufferIsView(data)) {
    // A copy made without the view's species (slice() would read its constructor).
    const length = ArrayBufferViewGetByteLength(data);
    const copy = new Uint8Array(length);
    TypedArrayPrototypeSet(copy, new Uint8Array(ArrayBufferViewGetBuffer(data), ArrayBufferViewGetByteOffset(data), length), 0);
    return copy;
  }
  throw invalidArgType("data", ["string", "Buffer", "TypedArray", "DataView"], data);
}

export function readFileSync(path: unknown, options?: unknown): unknown {
  const name = toPath(path);
  const node = lookup(name, "open");
  if (node === undefined) throw fsError("ENOENT", "open", name);
  if (node.dir) throw fsError("EISDIR", "read", undefined);
  const encoding = encodingOf(options);
  if (encoding !== undefined) return sliceString(node.data, 0, TypedArrayPrototypeGetLength(node.data), encoding as never);
  return bufferFrom(node.data);
}

function writeFile(path: unknown, data: unknown, options: unknown, append: boolean): void {
  const name = toPath(path);
  const bytes = bytesOf(data, options);
  const flag = typeof options === "object" && options !== null ? (options as { flag?: unknown }).flag : undefined;
  const at = parentOf(name, "open");
    const parent = at[0];
    const entry = at[1];
  const existing = MapPrototypeGet(parent.entries, entry);
  if (existing !== undefined && existing.dir) throw fsError("EISDIR", "open", name);
  if (existing !== undefined && (flag === "wx" || flag === "ax")) throw fsError("EEXIST", "open", name);
  if (existing !== undefined && (append || flag === "a")) {
    const joined = new Uint8Array(TypedArrayPrototypeGetLength(existing.data) + TypedArrayPrototypeGetLength(bytes));
    TypedArrayPrototypeSet(joined, existing.data, 0);
    TypedArrayPrototypeSet(joined, bytes, TypedArrayPrototypeGetLength(existing.data));
    existing.data = joined;
  } else if (existing !== undefined) existing.data = bytes;
  else MapPrototypeSet(parent.entries, entry, { dir: false, data: bytes, ino: nextIno++ });
}

export function writeFileSync(path: unknown, data: unknown, options?: unknown): void {
  writeFile(path, data, options, false);
}

export function appendFileSync(path: unknown, data: unknown, options?: unknown): void {
  writeFile(path, data, options, true);
}

export function existsSync(path: unknown): boolean {
  try {
    return lookup(toPath(path), "access") !== undefined;
  } catch {
    return false;
  }
}

export function accessSync(path: unknown, mode?: unknown): void {
  const name = toPath(path);
  if (lookup(name, "access") === undefined) throw fsError("ENOENT", "access", name);
  // W_OK (2) outside /tmp: the rest of the tree is read-only.
  if (typeof mode === "number" && (mode & 2) !== 0 && !writable(name) && name !== "/tmp") throw fsError("EPERM", "access", name);
}

export function mkdirSync(path: unknown, options?: unknown): string | undefined {
  const name = toPath(path);
  const recursive = typeof options === "object" && options !== null && (options as { recursive?: unknown }).recursive === true;
  if (!recursive) {
    const at = parentOf(name, "mkdir");
    const parent = at[0];
    const entry = at[1];
    if (MapPrototypeGet(parent.entries, entry) !== undefined) throw fsError("EEXIST", "mkdir", name);
    MapPrototypeSet(parent.entries, entry, dir());
    return undefined;
  }
  // Recursive: creates what is missing and returns the first directory it created.
  let node: Node = root;
  let current = "";
  let first: string | undefined;
  const names = parts(name);
  for (let i = 0; i < names.length; i++) {
    current += `/${names[i]}`;
    if (!node.dir) throw fsError("ENOTDIR", "mkdir", name);
    let next: Node | undefined = MapPrototypeGet(node.entries, names[i]);
    if (next === undefined) {
      if (!writable(current)) throw fsError("EPERM", "mkdir", name);
      next = dir();
      MapPrototypeSet(node.entries, names[i], next);
      first ??= current;
    }
    node = next;
  }
  if (!node.dir) throw fsError("EEXIST", "mkdir", name);
  return first;
}

export function readdirSync(path: unknown, options?: unknown): string[] {
  const name = toPath(path);
  const node = lookup(name, "scandir");
  if (node === undefined) throw fsError("ENOENT", "scandir", name);
  if (!node.dir) throw fsError("ENOTDIR", "scandir", name);
  if (typeof options === "object" && options !== null && ((options as { withFileTypes?: unknown }).withFileTypes || (options as { recursive?: unknown }).recursive)) {
    throw nodeError(Error, "ERR_METHOD_NOT_IMPLEMENTED", "The fs.readdir method is not implemented with the withFileTypes or recursive option");
  }
  const names: string[] = [];
  const iterator = SafeMapIterator(node.entries);
  for (let step = iterator.next(); !step.done; step = iterator.next()) ArrayPrototypePush(names, step.value[0]);
  return ArrayPrototypeSort(names);
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** fs.Stats of an in-memory entry: sizes and kinds are real, owners 0, timestamps the epoch. */
export class Stats {
  dev = 0;
  mode = 0;
  nlink = 1;
  uid = 0;
  gid = 0;
  rdev = 0;
  blksize = 4096;
  ino = 0;
  size = 0;
  blocks = 0;
  atimeMs = 0;
  mtimeMs = 0;
  ctimeMs = 0;
  birthtimeMs = 0;
  isFile(): boolean {
    return (this.mode & 0o170000) === S_IFREG;
  }
  isDirectory(): boolean {
    return (this.mode & 0o170000) === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return false;
  }
  isBlockDevice(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
}
// The Date fields are made on a read, with the sandbox's Date: the runtime calls nothing of it otherwise.
const timeFields = ["atime", "mtime", "ctime", "birthtime"];
for (let i = 0; i < timeFields.length; i++) {
  const field = timeFields[i];
  ObjectDefineProperty(Stats.prototype, field, {
    __proto__: null,
    get(this: Record<string, number>) {
      return new (globalThis as unknown as { Date: DateConstructor }).Date(this[`${field}Ms`]);
    },
    configurable: true,
  } as PropertyDescriptor);
}

export function statSync(path: unknown, options?: unknown): Stats | undefined {
  const name = toPath(path);
  const node = lookup(name, "stat");
  if (node === undefined) {
    if (typeof options === "object" && options !== null && (options as { throwIfNoEntry?: unknown }).throwIfNoEntry === false) return undefined;
    throw fsError("ENOENT", "stat", name);
  }
  const stats = new Stats();
  stats.ino = node.ino;
  stats.mode = node.dir ? S_IFDIR | 0o777 : S_IFREG | 0o666;
  stats.size = node.dir ? 4096 : TypedArrayPrototypeGetLength(node.data);
  stats.blocks = (stats.size + 511) >> 9;
  return stats;
}

function remove(path: unknown, syscall: "unlink" | "rmdir" | "rm", options?: unknown): void {
  const name = toPath(path);
  const recursive = typeof options === "object" && options !== null && (options as { recursive?: unknown }).recursive === true;
  const force = typeof options === "object" && options !== null && (options as { force?: unknown }).force === true;
  const node = lookup(name, syscall);
  if (node === undefined) {
    if (force) return;
    throw fsError("ENOENT", syscall, name);
  }
  if (syscall === "unlink" && node.dir) throw fsError("EISDIR", syscall, name);
  if (syscall === "rmdir" && !node.dir) throw fsError("ENOTDIR", syscall, name);
  if (syscall === "rm" && node.dir && !recursive) {
    throw withFields(nodeError(Error, "ERR_FS_EISDIR", `Path is a directory: rm returned EISDIR (is a directory) ${name}`), { errno: 21, syscall: "rm", path: name });
  }
  if (syscall === "rmdir" && node.dir && MapPrototypeGetSize(node.entries) > 0 && !recursive) throw fsError("ENOTEMPTY", syscall, name);
  const at = parentOf(name, syscall);
    const parent = at[0];
    const entry = at[1];
  MapPrototypeDelete(parent.entries, entry);
}

export const unlinkSync = (path: unknown): void => remove(path, "unlink");
export const rmdirSync = (path: unknown, options?: unknown): void => remove(path, "rmdir", options);
export const rmSync = (path: unknown, options?: unknown): void => remove(path, "rm", options);

/** The sync calls this file implements, by name: each also gets its callback and promise forms. */
const SYNC: Record<string, (...args: never[]) => unknown> = {
  readFile: readFileSync,
  writeFile: writeFileSync,
  appendFile: appendFileSync,
  access: accessSync,
  mkdir: mkdirSync,
  readdir: readdirSync,
  stat: statSync,
  lstat: statSync,
  unlink: unlinkSync,
  rmdir: rmdirSync,
  rm: rmSync,
};
const NAMES = ["readFile", "writeFile", "appendFile", "access", "mkdir", "readdir", "stat", "lstat", "unlink", "rmdir", "rm"];

/** The callback form: the last argument is the callback, called on a later microtask. */
function callbackForm(name: string, sync: (...args: unknown[]) => unknown) {
  const holder = {
    [name](...args: unknown[]): void {
      const callback = args[args.length - 1];
      if (typeof callback !== "function") throw invalidArgType("cb", "function", callback);
      args.length -= 1;
      let error: unknown = null;
      let value: unknown;
      try {
        value = primordials.ReflectApply(sync, undefined, args);
      } catch (caught) {
        error = caught;
      }
      PromisePrototypeThen(PromiseResolve(), () => (error === null ? callback(null, value) : callback(error)));
    },
  };
  return holder[name];
}

function promiseForm(name: string, sync: (...args: unknown[]) => unknown) {
  const holder = {
    [name](...args: unknown[]): Promise<unknown> {
      try {
        return PromiseResolve(primordials.ReflectApply(sync, undefined, args));
      } catch (error) {
        return PromiseReject(error);
      }
    },
  };
  return holder[name];
}

export function createFsModule(): Record<string, unknown> {
  const module: Record<string, unknown> = {
    readFileSync,
    writeFileSync,
    appendFileSync,
    existsSync,
    accessSync,
    mkdirSync,
    readdirSync,
    statSync,
    lstatSync: statSync,
    unlinkSync,
    rmdirSync,
    rmSync,
    Stats,
    exists(path: unknown, callback: unknown): void {
      if (typeof callback !== "function") throw invalidArgType("cb", "function", callback);
      const found = existsSync(path);
      PromisePrototypeThen(PromiseResolve(), () => callback(found));
    },
  };
  for (let i = 0; i < NAMES.length; i++) {
    ObjectDefineProperty(module, NAMES[i], { __proto__: null, value: callbackForm(NAMES[i], SYNC[NAMES[i]] as (...args: unknown[]) => unknown), writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  }
  return module;
}

export function createFsPromisesModule(): Record<string, unknown> {
  const module: Record<string, unknown> = {};
  for (let i = 0; i < NAMES.length; i++) {
    ObjectDefineProperty(module, NAMES[i], { __proto__: null, value: promiseForm(NAMES[i], SYNC[NAMES[i]] as (...args: unknown[]) => unknown), writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
  }
  return module;
}

