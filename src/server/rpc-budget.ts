// What one /v1/rpc session makes the server hold, in one budget of MAX_OBJECTS_PER_SESSION:
//
// - the objects it exported to its client (workers, entrypoints, sandbox objects and functions),
//   about 3 KB each, until the client releases them (300,000 never released took a server to
//   1 GB, findings5/38);
// - the client's own functions and RpcTargets it keeps for its sandboxes (a duplicated Cap'n Web
//   stub and the islet capability around it, about 0.7 KB each), until the sandbox drops the
//   capability, the worker holding it ends, or the session ends. Before they counted, 800,000 of
//   them took 526 MiB on one session (findings7b/14).

export const MAX_OBJECTS_PER_SESSION = 20_000;

/**
 * Bytes of the client's values one session makes the server keep past a call: the code (and plain
 * `env`) of its `get(id, { code })` sources, `load()` workers and `object()`s, and the `props` of
 * its entrypoints, weighed as they arrive (kept size). Each is one object in the count above but
 * may be a whole message (1 MiB): 1,000 `get()` stubs of 900 KB of code had taken a server to
 * 1.09 GB (findings8/07).
 */
export const MAX_KEPT_BYTES_PER_SESSION = 32 * 1024 * 1024;

type Stub = { [Symbol.dispose](): void };

const WHAT = "workers, entrypoints and sandbox objects its client has not released, and the client's functions and RpcTargets its sandboxes keep";

/** Client stubs that go together: those handed to one worker, released when it ends. */
export class StubGroup {
  readonly stubs = new Set<Stub>();
  /** Called when the group's last stub goes (so whoever indexes the group can forget it). */
  emptied: (() => void) | undefined;

  constructor(private readonly budget: SessionBudget) {}

  get size(): number {
    return this.stubs.size;
  }

  release(): void {
    for (const stub of this.stubs) this.budget.drop(stub);
  }
}

export class SessionBudget {
  private held = 0;
  private keptBytes = 0;
  private closed = false;
  /** The client stubs kept, each with the group it goes with. */
  private readonly kept = new Map<Stub, StubGroup | undefined>();
  private readonly collected = new FinalizationRegistry<Stub>((stub) => this.drop(stub));

  group(): StubGroup {
    return new StubGroup(this);
  }

  /** Counts one more exported object; returns its release. Past the budget the export is refused. */
  countExport(): () => void {
    if (this.held >= MAX_OBJECTS_PER_SESSION) {
      throw new RangeError(`This RPC session holds ${MAX_OBJECTS_PER_SESSION} objects, its limit (${WHAT}); dispose some first.`);
    }
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
    };
  }

  /**
   * Counts `bytes` of the client's values kept until the returned release (`what` names them for
   * the error); `replaced` is what a value this one replaces keeps now (released by its owner once
   * this one is taken). Past MAX_KEPT_BYTES_PER_SESSION they are refused.
   */
  keepBytes(bytes: number, what: string, replaced = 0): () => void {
    if (this.closed) throw new RangeError("The RPC session is closed.");
    if (this.keptBytes - replaced + bytes > MAX_KEPT_BYTES_PER_SESSION) {
      throw new RangeError(
        `This RPC session keeps ${this.keptBytes} bytes of its client's code, env and props, and ${what} would add ${bytes}: past its limit of ${MAX_KEPT_BYTES_PER_SESSION} bytes. Reuse get() ids (an id keeps only its latest code), release workers and entrypoints, or open another session.`,
      );
    }
    this.keptBytes += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.keptBytes -= bytes;
    };
  }

  /** Refuses a value from the client that carries `count` functions and RpcTargets past the budget. */
  reserve(count: number): void {
    if (count === 0) return;
    if (this.closed) throw new RangeError("The RPC session is closed.");
    if (this.held + count > MAX_OBJECTS_PER_SESSION) {
      throw new RangeError(
        `This RPC session holds ${this.held} objects and this value carries ${count} more of the client's functions and RpcTargets: past its limit of ${MAX_OBJECTS_PER_SESSION} (${WHAT}). Dispose workers that keep them, or other objects, first.`,
      );
    }
  }

  /**
   * Keeps `stub` (a duplicate the caller made) until `holder`, the capability the sandbox is given
   * for it, is collected, its group is released, or the session ends.
   */
  keep(stub: Stub, holder: object, group: StubGroup | undefined): void {
    if (this.closed) {
      stub[Symbol.dispose]();
      throw new RangeError("The RPC session is closed.");
    }
    this.held++;
    this.kept.set(stub, group);
    group?.stubs.add(stub);
    this.collected.register(holder, stub, stub);
  }

  drop(stub: Stub): void {
    if (!this.kept.has(stub)) return;
    const group = this.kept.get(stub);
    this.kept.delete(stub);
    this.collected.unregister(stub);
    this.held--;
    stub[Symbol.dispose]();
    if (group !== undefined && group.stubs.delete(stub) && group.stubs.size === 0) group.emptied?.();
  }

  close(): void {
    this.closed = true;
    for (const stub of [...this.kept.keys()]) this.drop(stub);
  }
}

/**
 * What a value from the client (plain data from a Cap'n Web message) keeps in the server's heap,
 * roughly as the sandbox boundary weighs values: a string 1 byte a code unit when it is 1,024 or
 * more units all Latin-1, 2 otherwise; bytes their length; 16 bytes an object, array or other
 * value, and each key as a string. Walked without recursion: a message may nest deeply.
 */
export function keptSize(value: unknown): number {
  let size = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === "string") {
      size += stringSize(item);
    } else if (item instanceof Uint8Array || item instanceof ArrayBuffer) {
      size += item.byteLength + 16;
    } else if (Array.isArray(item)) {
      size += 16;
      for (const element of item) pending.push(element);
    } else if (item !== null && typeof item === "object" && isPlain(item)) {
      size += 16;
      for (const [key, element] of Object.entries(item)) {
        size += stringSize(key);
        pending.push(element);
      }
    } else {
      // Numbers, booleans, stubs (counted as objects already) and the like.
      size += 16;
    }
  }
  return size;
}

function stringSize(text: string): number {
  return text.length >= 1024 && !/[^\x00-\xff]/.test(text) ? text.length : 2 * text.length;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
