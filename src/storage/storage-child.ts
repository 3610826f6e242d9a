// The storage process (see storage-process.ts): one DurableObjectStorage per name, a file named by
// the name's hash under the directory it was given. Each call is answered once what it
// wrote is committed. It ends when its parent lets go of the channel.

import { join } from "node:path";
import { deserialize } from "node:v8";
import { hashName } from "./object-id.ts";
import { DurableObjectStorage, type ListOptions } from "./storage.ts";
import { countObjects } from "./weigh.ts";

const { dir, storageMb, maxAnswerBytes, maxAnswerObjects } = JSON.parse(process.argv[2] ?? "{}") as {
  dir: string;
  storageMb: number;
  maxAnswerBytes: number;
  maxAnswerObjects: number;
};

/**
 * One call's answer, weighed here (this process's time, not the host's): the host rebuilds every
 * object of it on its own thread, so an answer past the caps is refused before the host sees it.
 */
class Answer {
  bytes = 0;
  objects = 0;

  add(bytes: number, value: unknown): unknown {
    this.bytes += bytes;
    this.objects += countObjects(value, maxAnswerObjects);
    if (this.bytes > maxAnswerBytes || this.objects > maxAnswerObjects) {
      throw new RangeError(`one storage answer is at most ${maxAnswerBytes} bytes and ${maxAnswerObjects} objects; read less at a time (a list() limit, smaller values)`);
    }
    return value;
  }
}
const storages = new Map<string, DurableObjectStorage>();

/** Rows one sql() call hands back at most. */
const MAX_ROWS = 10_000;

function storageFor(name: string): DurableObjectStorage {
  let storage = storages.get(name);
  if (storage === undefined) {
    storage = new DurableObjectStorage({ path: join(dir, `${hashName(name)}.sqlite`), storageMb });
    storages.set(name, storage);
  }
  return storage;
}

function run(storage: DurableObjectStorage, op: string, args: unknown[]): unknown {
  switch (op) {
    case "get": {
      const bytes = storage.kvGetBytes(args[0] as string);
      return bytes === undefined ? undefined : new Answer().add(bytes.byteLength, deserialize(bytes));
    }
    case "put":
      return storage.kv.put(args[0] as string, args[1]);
    case "putBytes":
      return storage.kvPutBytes(args[0] as string, args[1] as Uint8Array);
    case "delete":
      return storage.kv.delete(args[0] as string);
    case "list": {
      const answer = new Answer();
      return storage.kvListBytes(args[0] as ListOptions).map(([key, bytes]) => [key, answer.add(bytes.byteLength + key.length * 2, deserialize(bytes))]);
    }
    case "sql": {
      const cursor = storage.sql.exec(args[0] as string, ...(args[1] as unknown[]));
      const rows = cursor.toArray();
      if (rows.length > MAX_ROWS) throw new RangeError(`sql: at most ${MAX_ROWS} rows a query; add a LIMIT`);
      const answer = new Answer();
      for (const row of rows) answer.add(Object.values(row).reduce<number>((sum, cell) => sum + (typeof cell === "string" ? cell.length * 2 : cell instanceof ArrayBuffer ? cell.byteLength : 8), 0), row);
      return { rows, rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten };
    }
    default:
      throw new TypeError(`unknown storage operation "${op}"`);
  }
}

process.on("message", async (message: { id: number; name: string; op: string; args: unknown[] }) => {
  let reply: object;
  try {
    const storage = storageFor(message.name);
    const value = run(storage, message.op, message.args);
    await storage.flushed();
    reply = { id: message.id, ok: true, value };
  } catch (error) {
    // A failure that rolled the turn back breaks the storage: it starts afresh from what was committed.
    storages.get(message.name)?.recover();
    const failure = error instanceof Error ? error : new Error(String(error));
    reply = { id: message.id, ok: false, error: { name: failure.name, message: failure.message } };
  }
  process.send?.(reply);
});

process.on("disconnect", () => {
  for (const storage of storages.values()) storage.close();
  process.exit(0);
});

process.send?.({ ready: true });
