// Forged, replayed and laundered capabilities; re-entrancy; thenables and coercion hooks in values
// handed to the host. The first group simulates a sandbox whose runtime is fully compromised (a V8
// bug that lets it post any message): it posts straight into the host's handler for that worker
// and checks every answer. That reaches into islet's internals on purpose (the worker's message
// handler and its reply channel), since no code inside a sandbox can reach them.

import assert from "node:assert/strict";
import { CpuLimitError, OutboundError, RpcTarget, StubDisposedError, SubrequestLimitError, WallTimeLimitError, WorkerLoader, type TailEvent } from "islet";
import { shardSlotFor } from "../../src/loader/shard/pool.ts";
import { js, rejectsWith, securitySuite } from "./harness.ts";
import { liveWorkerOf, shardPoolOf } from "../../src/testing.ts";

const { attack, call, load, loader, isolation, options } = securitySuite();

const Op = { Call: 1, Log: 2, TimerSet: 3, TimerClear: 4, Release: 5, Fetch: 6, Service: 7, FetchAbort: 8, BodyRead: 9, BodyCancel: 10, Connect: 11, SocketWrite: 12, SocketEnd: 13, SocketClose: 14, SocketStartTls: 15, StubConnect: 16, StubFetch: 17 } as const;
type Reply = [callId: number, ok: number, payload: any];

interface Compromised {
  /** Posts a message as the sandbox's runtime would, and resolves with the host's reply, if any. */
  post(op: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown): Promise<Reply | undefined>;
}

let nextForgedCallId = 1_000_000;

/**
 * Runs `forge` while an invocation of the named worker `id` is in flight (the host answers only
 * then), posting into that worker's handler directly. Returns once the invocation has ended.
 */
async function compromised(target: WorkerLoader, id: string, env: Record<string, unknown>, forge: (runtime: Compromised) => Promise<void>): Promise<void> {
  let release!: () => void;
  let entered!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const stub = target.get(id, () => ({
    compatibilityDate: "2026-11-01",
    mainModule: "worker.js",
    modules: { "worker.js": `export default { async hold(wait) { await wait(); return "held"; } };` },
    env,
  }));
  const holding = (stub.getEntrypoint() as any).hold(() => {
    entered();
    return held;
  });
  try {
    await inside;
    const worker = liveWorkerOf(target, id) as any;
    const sandbox = worker.sandbox;
    const replies = new Map<number, Reply>();
    const send = sandbox.send.bind(sandbox);
    sandbox.send = (name: string, args: unknown[]) => {
      if (name === "settle" && (args[0] as number) >= 1_000_000) return void replies.set(args[0] as number, args.slice(0, 3) as Reply);
      return send(name, args);
    };
    await forge({
      async post(op, a, b, c, d) {
        const callId = typeof a === "number" && a >= 1_000_000 ? a : undefined;
        worker.ops.post(op, a, b, c, d); // the worker's op dispatch (src/loader/op-dispatch.ts)
        for (let i = 0; i < 50 && callId !== undefined && !replies.has(callId); i++) await new Promise((resolve) => setTimeout(resolve, 2));
        return callId === undefined ? undefined : replies.get(callId);
      },
    });
  } finally {
    release();
  }
  assert.equal(await holding, "held", "the compromised worker's own call still completes");
}

/** The sandbox-level forgeries post into the host's handler for one worker, which in thread and process isolation lives inside the shard. */
const inProcessOnly = {
  thread: "the worker's message handler lives inside the shard thread, out of the host's reach; the shard-level forgeries below attack the host's side there",
  process: "the worker's message handler lives inside the child process, out of the host's reach; the shard-level forgeries below attack the host's side there",
};

const forgedCall = (runtime: Compromised, capId: unknown, method: unknown, args: unknown) => runtime.post(Op.Call, nextForgedCallId++, capId, method, args);
const errorName = (reply: Reply | undefined) => (reply?.[1] === 0 ? `${reply[2].name}: ${reply[2].message}` : `ok ${JSON.stringify(reply?.[2])}`);

attack("a forged call to an id this sandbox was never given, though valid in another worker, is a StubDisposedError", async () => {
  let otherCalls = 0;
  const other = () => otherCalls++;
  // Another live worker holds capabilities 1 to 4; the forger holds only 1 (the function its call is waiting on).
  const holder = load(`export default { run() { return 1; } };`, { env: { a: other, b: other, c: other, d: other } });
  assert.equal(await (holder.getEntrypoint() as any).run(), 1);
  await compromised(loader, "forger-1", {}, async (runtime) => {
    for (const capId of [2, 3, 4, 100]) assert.match(errorName(await forgedCall(runtime, capId, null, [[]])), /^StubDisposedError: /);
  });
  assert.equal(otherCalls, 0);
}, inProcessOnly);

attack("forged capability ids of every wrong type are refused with StubDisposedError", async () => {
  let calls = 0;
  await compromised(loader, "forger-2", { fn: () => calls++ }, async (runtime) => {
    for (const capId of ["1", 1.5, NaN, -1, 0, null, undefined, { id: 1 }, [1], 2 ** 53]) {
      assert.match(errorName(await forgedCall(runtime, capId, null, [[]])), /^StubDisposedError: /, String(capId));
    }
  });
  assert.equal(calls, 0);
}, inProcessOnly);

attack("forged method names on a real RpcTarget reach nothing but its class's methods", async () => {
  let opened = 0;
  class Vault extends RpcTarget {
    secret = "host-secret-value";
    open(): string {
      return `opened ${++opened}`;
    }
  }
  await compromised(loader, "forger-3", { vault: new Vault() }, async (runtime) => {
    // Capability 1 is the vault (the only capability in this env).
    assert.equal(errorName(await forgedCall(runtime, 1, "open", [[]])), 'ok ["opened 1"]');
    for (const method of ["constructor", "__proto__", "then", "hasOwnProperty", "secret", "__defineSetter__", 42, { toString: "open" }, ["open"]]) {
      assert.match(errorName(await forgedCall(runtime, 1, method, [[]])), /^TypeError: The RPC receiver does not implement the method/, JSON.stringify(method));
    }
    assert.match(errorName(await forgedCall(runtime, 1, null, [[]])), /^TypeError: This stub is not a function/);
  });
  assert.equal(opened, 1);
}, inProcessOnly);

attack("forged argument encodings are refused with DataCloneError or StubDisposedError, never decoded into the host", async () => {
  let seen: unknown[] = [];
  await compromised(loader, "forger-4", { fn: (...args: unknown[]) => void (seen = args) }, async (runtime) => {
    const bad: [unknown, RegExp][] = [
      [null, /^DataCloneError: .*Malformed value/],
      ["[[]]", /^DataCloneError: .*Malformed value/],
      [[[], "caps"], /^DataCloneError: .*Malformed capability list/],
      [[[{}], [[["__proto__", "x"], 0, 1]]], /^DataCloneError: .*Malformed capability path/],
      [[[{}], [[["constructor", "prototype", "x"], 0, 1]]], /^DataCloneError: .*Malformed capability path/],
      [[[{}], [[[0], 7, 1]]], /^DataCloneError: .*Malformed capability slot/],
      [[[{}], [[[0], 2, 999]]], /^StubDisposedError: /],
      [[[{}], Array(10_001).fill([[0], 0, 1])], /^DataCloneError: .*Malformed capability list/],
      [[{ not: "an array" }], /^TypeError: Malformed call arguments/],
    ];
    for (const [args, expected] of bad) assert.match(errorName(await forgedCall(runtime, 1, null, args)), expected, JSON.stringify(args)?.slice(0, 80));
    // The one well-formed message: a "__proto__" key arrives as an own property, not a prototype.
    assert.equal(errorName(await forgedCall(runtime, 1, null, [[JSON.parse('{"__proto__": {"polluted": 1}}')]])), "ok [null]");
  });
  assert.equal(Object.getPrototypeOf(seen[0]), Object.prototype);
  assert.equal((seen[0] as Record<string, unknown>).polluted, undefined);
}, inProcessOnly);

attack("forged fire-and-forget messages with garbage values are ignored without a host exception", async () => {
  await compromised(loader, "forger-5", {}, async (runtime) => {
    const garbage = [undefined, null, NaN, -1, 2 ** 60, "x".repeat(1000), { toString: 1, valueOf: 1 }, [[[]]], new Date(NaN)];
    for (const value of garbage) {
      for (const op of [Op.Log, Op.TimerSet, Op.TimerClear, Op.Release, Op.FetchAbort, Op.BodyCancel, 0, 99, -1]) {
        assert.equal(await runtime.post(op, value, value, value, value), undefined);
      }
    }
  });
}, inProcessOnly);

attack("forged fetch records reach globalOutbound only as valid Requests, and bad ones fail as fetch failed", async () => {
  const upstream: string[] = [];
  // The harness loader blocks fetch; this one answers, so a forged record that got through would show.
  const target = new WorkerLoader({
    limits: { cpuMs: 250, wallMs: 3_000 },
    globalOutbound: (request: Request) => {
      upstream.push(request.url);
      return new Response("ok");
    },
  });
  await compromised(target, "forger-6", {}, async (runtime) => {
    const records = [null, 7, { url: 5 }, { url: "not a url", method: "GET", headers: [] }, { url: "https://a.test/", method: "GET", headers: "x" }, { url: "https://a.test/", method: "G ET", headers: [] }];
    for (const record of records) assert.equal(errorName(await runtime.post(Op.Fetch, nextForgedCallId++, record)), "TypeError: fetch failed", JSON.stringify(record));
    const ok = await runtime.post(Op.Fetch, nextForgedCallId++, { url: "https://a.test/ok", method: "GET", headers: [], body: null, redirect: "follow" });
    assert.equal(ok?.[1], 1);
  });
  assert.deepEqual(upstream, ["https://a.test/ok"]);
  await target.close();
}, inProcessOnly);

attack("forged service requests and body reads are refused with named errors", async () => {
  await compromised(loader, "forger-7", {}, async (runtime) => {
    for (const service of ["constructor", "__proto__", "toString", "eval", 42, null]) {
      assert.match(errorName(await runtime.post(Op.Service, nextForgedCallId++, service, [])), /^TypeError: Unknown host service/, String(service));
    }
    for (const body of [1, 2, -1, "1", null]) assert.equal(errorName(await runtime.post(Op.BodyRead, nextForgedCallId++, body)), "TypeError: This response body is no longer available.");
  });
}, inProcessOnly);

attack("forged socket messages: connect records are checked before the hook, and ids the sandbox does not hold are refused", async () => {
  const asked: unknown[] = [];
  // A connect hook that records what reaches it: a forged record that got through would show.
  const target = new WorkerLoader({
    limits: { cpuMs: 250, wallMs: 3_000 },
    globalOutbound: {
      connect: (address: unknown) => {
        asked.push(address);
        throw new OutboundError("refused by the test hook");
      },
    },
  });
  await compromised(target, "forger-sockets", {}, async (runtime) => {
    const bad = [null, 7, { hostname: 5, port: 1 }, { hostname: "", port: 1 }, { hostname: "a b", port: 1 }, { hostname: "x".repeat(256), port: 1 }, { hostname: "a.test", port: -1 }, { hostname: "a.test", port: 1.5 }, { hostname: "a.test", port: "80" }];
    for (const record of bad) assert.match(errorName(await runtime.post(Op.Connect, nextForgedCallId++, record, {})), /^Error: (Specified address|The specified port)/, JSON.stringify(record));
    assert.match(errorName(await runtime.post(Op.Connect, nextForgedCallId++, { hostname: "a.test", port: 1 }, { secureTransport: "sometimes" })), /^Error: Unsupported value in secureTransport/);
    assert.equal(errorName(await runtime.post(Op.Connect, nextForgedCallId++, { hostname: "a.test", port: 1 }, {})), "Error: refused by the test hook");
    for (const id of [1, 2, -1, "1", null, 2 ** 60]) {
      assert.equal(errorName(await runtime.post(Op.SocketWrite, nextForgedCallId++, id, new Uint8Array(1))), "Error: This socket is closed.");
      assert.equal(errorName(await runtime.post(Op.SocketEnd, nextForgedCallId++, id)), "Error: This socket is closed.");
      assert.equal(errorName(await runtime.post(Op.SocketStartTls, nextForgedCallId++, id, "a.test")), "Error: This socket is closed.");
      assert.equal(await runtime.post(Op.SocketClose, id), undefined);
    }
  });
  assert.deepEqual(asked, [{ hostname: "a.test", port: 1 }]);
  await target.close();
}, inProcessOnly);

attack("forged connect() on a stub: only a service binding's id opens a socket, its records are checked first, and nothing else is called", async () => {
  let called = 0;
  class Service extends RpcTarget {
    connect(): string {
      called++;
      return "reached";
    }
  }
  const service = new Service();
  const notABinding = () => (called++, "reached");
  const target = new WorkerLoader({ limits: { cpuMs: 250, wallMs: 3_000 } });
  const server = target.load(js(`let seen = 0; export default { async connect(socket) { seen++; await socket.close(); }, seen() { return seen; } };`));
  const binding = server.getEntrypoint();
  await compromised(target, "forger-stub-connect", { service, notABinding, binding }, async (runtime) => {
    const table = (liveWorkerOf(target, "forger-stub-connect") as any).peer.table;
    const address = { hostname: "a.test", port: 1 };
    for (const capId of [table.idOf(service), table.idOf(notABinding)]) {
      assert.equal(errorName(await runtime.post(Op.StubConnect, nextForgedCallId++, capId, address, {})), "Error: connect() on a stub needs a service binding (another worker's entrypoint); this stub is not one.");
    }
    for (const capId of [999_999, -1, "1", null, 2 ** 60]) assert.match(errorName(await runtime.post(Op.StubConnect, nextForgedCallId++, capId, address, {})), /^StubDisposedError: /, String(capId));
    const id = table.idOf(binding);
    for (const record of [null, 7, { hostname: 5, port: 1 }, { hostname: "a b", port: 1 }, { hostname: "a.test", port: 1.5 }]) {
      assert.match(errorName(await runtime.post(Op.StubConnect, nextForgedCallId++, id, record, {})), /^Error: (Specified address|The specified port)/, JSON.stringify(record));
    }
    assert.match(errorName(await runtime.post(Op.StubConnect, nextForgedCallId++, id, address, { secureTransport: "on" })), /^Error: A service binding's connect\(\) carries plain bytes/);
    assert.match(errorName(await runtime.post(Op.StubConnect, nextForgedCallId++, id, address, {})), /^ok \{"socket":\d+,"body":\d+/);
  });
  assert.equal(called, 0);
  assert.equal(await server.getEntrypoint().seen(), 1);
  await target.close();
}, inProcessOnly);

attack("forged fetch() on a stub: only a service binding's id reaches a fetch handler, and nothing else is called", async () => {
  let called = 0;
  class Service extends RpcTarget {
    fetch(): string {
      called++;
      return "reached";
    }
  }
  const service = new Service();
  const notABinding = () => (called++, "reached");
  const globalOutbound = () => (called++, new Response("outbound"));
  const target = new WorkerLoader({ limits: { cpuMs: 250, wallMs: 3_000 }, globalOutbound });
  const server = target.load(js(`let seen = 0; export default { fetch(request) { seen++; return new Response("served " + request.method); }, seen() { return seen; } };`));
  const binding = server.getEntrypoint();
  await compromised(target, "forger-stub-fetch", { service, notABinding, binding }, async (runtime) => {
    const table = (liveWorkerOf(target, "forger-stub-fetch") as any).peer.table;
    const record = { url: "https://a.test/", method: "GET", headers: [], body: null, redirect: "manual" };
    for (const capId of [table.idOf(service), table.idOf(notABinding)]) {
      assert.equal(errorName(await runtime.post(Op.StubFetch, nextForgedCallId++, capId, record, false)), "TypeError: fetch() on a stub needs a service binding (another worker's entrypoint); this stub is not one.");
    }
    for (const capId of [999_999, -1, "1", null, 2 ** 60]) assert.match(errorName(await runtime.post(Op.StubFetch, nextForgedCallId++, capId, record, false)), /^StubDisposedError: /, String(capId));
    const id = table.idOf(binding);
    for (const bad of [null, 7, { ...record, url: "not a url" }, { ...record, headers: [["a b", "c"]] }, { ...record, method: "bad method" }]) {
      assert.match(errorName(await runtime.post(Op.StubFetch, nextForgedCallId++, id, bad, false)), /^TypeError: /, JSON.stringify(bad));
    }
    assert.match(errorName(await runtime.post(Op.StubFetch, nextForgedCallId++, id, record, false)), /^ok \{"status":200,.*"body":\{/);
  });
  assert.equal(called, 0);
  assert.equal(await server.getEntrypoint().seen(), 1);
  await target.close();
}, inProcessOnly);

// findings7a/11: a resizable buffer keeps its maxByteLength through a copy; the host keeps none.
const rab = (...bytes: number[]) => {
  const buffer = new ArrayBuffer(bytes.length, { maxByteLength: 1 << 20 });
  new Uint8Array(buffer).set(bytes);
  return buffer;
};
/** [resizable, maxByteLength === byteLength, bytes] of a buffer or view, or the value itself. */
const shape = (value: unknown) => {
  const buffer = ArrayBuffer.isView(value) ? (value.buffer as ArrayBuffer) : value instanceof ArrayBuffer ? value : undefined;
  if (buffer === undefined) return value;
  return [buffer.resizable, buffer.maxByteLength === buffer.byteLength, [...new Uint8Array(buffer)]];
};

attack("forged logs and host-call arguments holding resizable buffers are kept as fixed-length copies (a lone part, a shared buffer beside one)", async () => {
  const events: TailEvent[] = [];
  let seen: unknown[] = [];
  const target = new WorkerLoader({ limits: { cpuMs: 250, wallMs: 3_000 }, tails: [(e: TailEvent[]) => void events.push(...e)] });
  await compromised(target, "forger-8", { fn: (...args: unknown[]) => void (seen = args) }, async (runtime) => {
    await runtime.post(Op.Log, "log", [rab(1), new Uint8Array(rab(2, 3))], false);
    await runtime.post(Op.Log, "log", rab(4), false);
    await runtime.post(Op.Log, "log", [new SharedArrayBuffer(1), rab(5)], false);
    assert.equal(errorName(await forgedCall(runtime, 1, null, [[rab(6), new Uint16Array(rab(7, 8))]])), "ok [null]");
  });
  assert.deepEqual(events[0].logs.map((log) => log.message.map(shape)), [
    [[false, true, [1]], [false, true, [2, 3]]],
    [[false, true, [4]]],
    ["[object SharedArrayBuffer]", [false, true, [5]]],
  ]);
  assert.deepEqual(seen.map(shape), [[false, true, [6]], [false, true, [7, 8]]]);
  await target.close();
}, inProcessOnly);

// A compromised shard: in thread and process isolation the host also trusts nothing a shard (a
// worker thread, a child process) sends it. These forgeries post requests and notifications into
// the host's handler for the shard as a shard whose runtime a V8 escape took over could, and check
// every answer. They reach into islet's internals on purpose (the pool's connection to its shard).

const shardOnly = { isolate: "in-process isolation has no shard: the sandbox-level forgeries above attack the host's handler directly" };
const ShardKind = { Request: 0, Resolve: 1, Reject: 2, Notify: 3 } as const;

interface CompromisedShard {
  /** A request as the shard would send it; resolves with "ok <json>" or "<name>: <message>". */
  request(name: string, payload: unknown): Promise<string>;
  notify(name: unknown, payload: unknown): void;
  /** The id under which the host exported `value` to this shard. */
  capId(value: object): number;
}

/** The host's connection to the shard in `slot` of `target`'s pool. */
function shardConnection(target: WorkerLoader, slot = 0): any {
  const pool = shardPoolOf(target) as any;
  return pool.slots[slot].conn;
}

/** Runs `forge` as the shard in `slot` while the named worker `id` (living there) holds a call open. */
async function compromisedShard(target: WorkerLoader, id: string, env: Record<string, unknown>, forge: (shard: CompromisedShard) => Promise<void>, slot = 0): Promise<void> {
  let release!: () => void;
  let entered!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const stub = target.get(id, () => ({ compatibilityDate: "2026-11-01", mainModule: "worker.js", modules: { "worker.js": `export default { async hold(wait) { await wait(); return "held"; } };` }, env }));
  const holding = (stub.getEntrypoint() as any).hold(() => {
    entered();
    return held;
  });
  const conn = shardConnection(target, slot);
  const post = conn.handle.post;
  try {
    await inside;
    const replies = new Map<number, any[]>();
    conn.handle.post = (message: any[]) => {
      if ((message[0] === ShardKind.Resolve || message[0] === ShardKind.Reject) && message[1] >= 1_000_000) return void replies.set(message[1], message);
      return post.call(conn.handle, message);
    };
    await forge({
      async request(name, payload) {
        const requestId = nextForgedCallId++;
        conn.channel.receive([ShardKind.Request, requestId, name, payload]);
        for (let i = 0; i < 250 && !replies.has(requestId); i++) await new Promise((resolve) => setTimeout(resolve, 2));
        const reply = replies.get(requestId);
        if (reply === undefined) return "no reply";
        return reply[0] === ShardKind.Resolve ? `ok ${JSON.stringify(reply[2])}` : `${reply[2].name}: ${reply[2].message}`;
      },
      notify: (name, payload) => conn.channel.receive([ShardKind.Notify, name, payload]),
      capId: (value) => conn.link.table.idOf(value),
    });
  } finally {
    conn.handle.post = post;
    release();
  }
  assert.equal(await holding, "held", "the worker's own call through the compromised shard still completes");
}

attack("a compromised shard: capability ids it was never given, or of the wrong type, are StubDisposedError; the host function is never called", async () => {
  let calls = 0;
  const fn = () => ++calls;
  await compromisedShard(loader, "shard-forger-1", { fn }, async (shard) => {
    const id = shard.capId(fn);
    assert.equal(await shard.request("invoke", [id, null, [[]]]), "ok [1]", "the one capability it holds answers");
    for (const capId of ["1", 1.5, NaN, -1, 0, null, undefined, { id }, [id], 2 ** 53, 1_000_000, String(id)]) {
      assert.match(await shard.request("invoke", [capId, null, [[]]]), /^StubDisposedError: /, String(capId));
    }
  });
  assert.equal(calls, 1);
}, shardOnly);

attack("a compromised shard: forged method names on a real RpcTarget reach nothing but its class's methods", async () => {
  let opened = 0;
  class Vault extends RpcTarget {
    secret = "host-secret-value";
    open(): string {
      return `opened ${++opened}`;
    }
  }
  const vault = new Vault();
  await compromisedShard(loader, "shard-forger-2", { vault }, async (shard) => {
    const id = shard.capId(vault);
    assert.equal(await shard.request("invoke", [id, "open", [[]]]), 'ok ["opened 1"]');
    for (const method of ["constructor", "__proto__", "then", "hasOwnProperty", "secret", "__defineSetter__", 42, { toString: "open" }, ["open"]]) {
      assert.match(await shard.request("invoke", [id, method, [[]]]), /^TypeError: The RPC receiver does not implement the method/, JSON.stringify(method));
    }
    assert.match(await shard.request("invoke", [id, null, [[]]]), /^TypeError: This stub is not a function/);
  });
  assert.equal(opened, 1);
}, shardOnly);

attack("a compromised shard: forged argument encodings are refused with named errors, never decoded into the host", async () => {
  let seen: unknown[] = [];
  const fn = (...args: unknown[]) => void (seen = args);
  await compromisedShard(loader, "shard-forger-3", { fn }, async (shard) => {
    const id = shard.capId(fn);
    const bad: [unknown, RegExp][] = [
      [null, /^DataCloneError: .*Malformed value/],
      ["[[]]", /^DataCloneError: .*Malformed value/],
      [[[], "caps"], /^DataCloneError: .*Malformed capability list/],
      [[[{}], [[["__proto__", "x"], 0, 1]]], /^DataCloneError: .*Malformed capability path/],
      [[[{}], [[[0], 7, 1]]], /^DataCloneError: .*Malformed capability slot/],
      [[[{}], [[[0], 2, 999_999]]], /^StubDisposedError: /],
      [[[{}], Array(10_001).fill([[0], 0, 1])], /^DataCloneError: .*Malformed capability list/],
      [[{ not: "an array" }], /^TypeError: Malformed call arguments/],
      [[[new SharedArrayBuffer(8)]], /^DataCloneError: /],
    ];
    for (const [args, expected] of bad) assert.match(await shard.request("invoke", [id, null, args]), expected, String(JSON.stringify(args)).slice(0, 80));
    assert.equal(await shard.request("invoke", [id, null, [[JSON.parse('{"__proto__": {"polluted": 1}}')]]]), "ok [null]");
  });
  assert.equal(Object.getPrototypeOf(seen[0]), Object.prototype);
  assert.equal((seen[0] as Record<string, unknown>).polluted, undefined);
}, shardOnly);

attack("a compromised shard: an outbound fetch through a capability that is not a globalOutbound fails as fetch failed, and calls nothing", async () => {
  let called = 0;
  const notAFetcher = () => (called++, new Response("reached"));
  class Service extends RpcTarget {
    fetch(): Response {
      called++;
      return new Response("reached");
    }
  }
  const service = new Service();
  await compromisedShard(loader, "shard-forger-4", { notAFetcher, service }, async (shard) => {
    const record = { url: "https://a.test/", method: "GET", headers: [], body: null, redirect: "follow" };
    for (const capId of [shard.capId(notAFetcher), shard.capId(service), 999_999, "1", null]) {
      assert.equal(await shard.request("outbound", [capId, record, 1]), "TypeError: fetch failed", String(capId));
    }
  });
  assert.equal(called, 0);
}, shardOnly);

attack("a compromised shard: connect on a capability that is not a service binding is refused, and calls nothing", async () => {
  let called = 0;
  const notABinding = () => (called++, "reached");
  class Service extends RpcTarget {
    connect(): string {
      called++;
      return "reached";
    }
  }
  const service = new Service();
  await compromisedShard(loader, "shard-forger-stub-connect", { notABinding, service }, async (shard) => {
    for (const capId of [shard.capId(notABinding), shard.capId(service), 999_999, "1", null]) {
      assert.equal(await shard.request("stubConnect", [capId, { hostname: "a.test", port: 1 }, {}]), "OutboundError: connect() on a stub needs a service binding (another worker's entrypoint); this stub is not one.", String(capId));
    }
  });
  assert.equal(called, 0);
}, shardOnly);

attack("a compromised shard: fetch on a capability that is not a service binding is refused, and calls nothing", async () => {
  let called = 0;
  const notABinding = () => (called++, new Response("reached"));
  class Service extends RpcTarget {
    fetch(): Response {
      called++;
      return new Response("reached");
    }
  }
  const service = new Service();
  const record = { url: "https://a.test/", method: "GET", headers: [], body: null, redirect: "manual" };
  await compromisedShard(loader, "shard-forger-stub-fetch", { notABinding, service }, async (shard) => {
    for (const capId of [shard.capId(notABinding), shard.capId(service), 999_999, "1", null]) {
      assert.equal(await shard.request("stubFetch", [capId, record, 1]), "OutboundError: fetch() on a stub needs a service binding (another worker's entrypoint); this stub is not one.", String(capId));
    }
  });
  assert.equal(called, 0);
}, shardOnly);

attack("a compromised shard: forged outbound records reach globalOutbound only as valid Requests", async () => {
  const upstream: string[] = [];
  const globalOutbound = (request: Request) => {
    upstream.push(request.url);
    return new Response("ok");
  };
  const target = new WorkerLoader({ ...options, limits: { cpuMs: 250, wallMs: 3_000 }, globalOutbound });
  try {
    await compromisedShard(target, "shard-forger-5", {}, async (shard) => {
      const outbound = shard.capId(globalOutbound);
      const records = [null, 7, { url: 5 }, { url: "not a url", method: "GET", headers: [] }, { url: "https://a.test/", method: "GET", headers: "x" }, { url: "https://a.test/", method: "G ET", headers: [] }];
      for (const record of records) assert.match(await shard.request("outbound", [outbound, record, 1]), /^TypeError: fetch failed/, JSON.stringify(record));
      assert.match(await shard.request("outbound", [outbound, { url: "https://a.test/ok", method: "GET", headers: [], body: null, redirect: "follow" }, 2]), /^ok /);
    });
    assert.deepEqual(upstream, ["https://a.test/ok"]);
  } finally {
    await target.close();
  }
}, shardOnly);

attack("a compromised shard cannot fetch the code or env of a worker that lives in another shard", async () => {
  let calls = 0;
  const secretFn = () => ++calls;
  const target = new WorkerLoader({ ...options, ...(isolation === "thread" ? { threads: 2 } : { processes: 2 }), limits: { cpuMs: 250, wallMs: 3_000 } });
  try {
    // One worker in each shard (the id decides which).
    const ids = Array.from({ length: 40 }, (_, i) => `shard-forger-6-${i}`);
    const [here, there] = [ids.find((id) => shardSlotFor(id, 2) === 0)!, ids.find((id) => shardSlotFor(id, 2) === 1)!];
    const victim = target.get(there, () => js(`export default { run() { return "victim"; } };`, { env: { secretFn } }));
    assert.equal(await (victim.getEntrypoint() as any).run(), "victim");
    await compromisedShard(target, here, {}, async (shard) => {
      const before = shardConnection(target, 0).link.exportedCount;
      assert.match(await shard.request("code", `n${there}`), /^WorkerDisposedError: /);
      assert.equal(shardConnection(target, 0).link.exportedCount, before, "no capability of the other shard's worker was exported to this one");
      // Its own worker's code it may still have.
      assert.match(await shard.request("code", `n${here}`), /^ok /);
    });
  } finally {
    await target.close();
  }
  assert.equal(calls, 0);
}, shardOnly);

attack("a compromised shard: unknown requests and garbage notifications get named errors or are ignored, without a host exception", async () => {
  await compromisedShard(loader, "shard-forger-7", {}, async (shard) => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "debug", "call", 42, null]) {
      assert.match(await shard.request(name as string, []), /^TypeError: Unknown request/, String(name));
    }
    const garbage = [undefined, null, NaN, -1, 2 ** 60, "x".repeat(1000), { toString: 1, valueOf: 1 }, [[[]]], [1, 2, 3], ["nshard-forger-7", [null, 1, { logs: 5 }]], new Date(NaN)];
    for (const payload of garbage) for (const name of ["beat", "release", "abort", "tail", "forget", "dispose", "close", "unknown", "__proto__"]) shard.notify(name, payload);
  });
  // The pool still counts sensibly.
  const stats = loader.stats as unknown as Record<string, unknown>;
  assert.ok(Number.isFinite(stats.liveWorkers) && Number.isFinite(stats.warmSandboxes), JSON.stringify(stats));
}, shardOnly);

attack("a compromised shard: resizable buffers in its tail events, its replies (a fetch response's body, a streamed chunk) and host-call arguments reach the host as fixed-length copies", async () => {
  const events: TailEvent[] = [];
  let seen: unknown[] = [];
  const fn = (...args: unknown[]) => void (seen = args);
  const target = new WorkerLoader({ ...options, limits: { cpuMs: 250, wallMs: 3_000 }, tails: [(e: TailEvent[]) => void events.push(...e)] });
  await compromisedShard(target, "shard-forger-8", { fn }, async (shard) => {
    const event = { entrypoint: "default", method: "run", outcome: "ok", eventTimestamp: 0, logs: [{ level: "log", message: [rab(1), new DataView(rab(2, 3))], timestamp: 0 }], exceptions: [], fetches: [], cpuTime: 0, wallTime: 0 };
    shard.notify("tail", ["nshard-forger-8", [event]]);
    assert.equal(await shard.request("invoke", [shard.capId(fn), null, [[rab(4), new Float64Array(rab(0, 0, 0, 0, 0, 0, 0xf0, 0x3f))]]]), "ok [null]");
  });
  assert.deepEqual(events[0].logs[0].message.map(shape), [[false, true, [1]], [false, true, [2, 3]]]);
  assert.deepEqual(seen.map(shape), [[false, true, [4]], [false, true, [0, 0, 0, 0, 0, 0, 0xf0, 0x3f]]]);
  assert.equal((seen[1] as Float64Array)[0], 1);
  // The shard's replies to the host's fetch: a whole body, and the chunks of a streamed one, swapped for views over resizable buffers.
  const conn = shardConnection(target);
  const receive = conn.channel.receive;
  conn.channel.receive = (message: any[]) => {
    const value = message[0] === ShardKind.Resolve ? message[2] : undefined;
    if (value instanceof Uint8Array) message[2] = new Uint8Array(rab(...value));
    else if (value?.body instanceof Uint8Array) value.body = new Uint8Array(rab(...value.body));
    return receive.call(conn.channel, message);
  };
  try {
    const worker = target.load(js(`export default { fetch(request) {
      if (request.url.endsWith("/whole")) return new Response(new Uint8Array([5, 6]));
      // Not complete within the host's eager read: the body is pulled a chunk at a time.
      return new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([7, 8])); }, pull(c) { return new Promise((resolve) => setTimeout(resolve, 300)).then(() => c.close()); } }));
    } };`));
    const chunks = [];
    for (const url of ["https://w/whole", "https://w/stream"]) {
      const reader = ((await (worker.getEntrypoint() as any).fetch(new Request(url))) as Response).body!.getReader();
      chunks.push(shape((await reader.read()).value));
      await reader.cancel();
    }
    assert.deepEqual(chunks, [[false, true, [5, 6]], [false, true, [7, 8]]]);
  } finally {
    conn.channel.receive = receive;
  }
  await target.close();
}, shardOnly);

attack("code inside a sandbox cannot reach the bridge: harvesting every Map entry the runtime touches posts nothing", async () => {
  let calls = 0;
  const result = await call(
    `export default { async run(fn) {
      const harvested = [];
      const push = Array.prototype.push, call = Function.prototype.call;
      for (const C of [Map, WeakMap, Set, WeakSet]) for (const m of ["set", "get", "add", "has"]) {
        const real = C.prototype[m]; if (!real) continue;
        C.prototype[m] = function (k, v) { push.call(harvested, k, v); const r = Reflect.apply(real, this, [k, v]); if (m === "get") push.call(harvested, r); return r; };
      }
      await fn(() => 1); console.log("x"); setTimeout(() => {}, 1); try { await fetch("https://x.test/"); } catch {}
      new URL("https://a.test/"); crypto.randomUUID(); await crypto.subtle.digest("SHA-256", new Uint8Array(1));
      const forged = [[1, 1, 1, null, [[]]], [1, 999, 1, null, [[]]], [6, 999, { url: "http://evil.test/", method: "GET", headers: [] }]];
      const candidates = [...harvested].flatMap((v) => (v && typeof v === "object" ? Object.values(v) : [v])).filter((v) => typeof v === "function");
      for (const f of candidates) for (const args of forged) { try { f(...args); } catch {} }
      return "done";
    } };`,
    "run",
    [
      () => {
        calls++;
        return 1;
      },
    ],
  );
  assert.equal(result, "done");
  assert.equal(calls, 1, "only the sandbox's one real call reached the host function");
});

attack("a capability the host revoked, handed back to the host, is a StubDisposedError", async () => {
  const fn = () => "ok";
  const stub = load(`let kept; export default { keep(f) { kept = f; return "kept"; }, giveBack() { return { kept }; } };`);
  assert.equal(await (stub.getEntrypoint() as any).keep(fn), "kept");
  assert.deepEqual(await (stub.getEntrypoint() as any).giveBack(), { kept: fn });
  assert.equal(stub.revoke(fn), true);
  await rejectsWith((stub.getEntrypoint() as any).giveBack(), StubDisposedError);
});

attack("a stub the sandbox disposed cannot be replayed to the host as an argument", async () => {
  let received: unknown;
  const result = await call(
    `export default { async run(fn, sink) { fn[Symbol.dispose](); try { await sink(fn); return "accepted"; } catch (e) { return e.name; } } };`,
    "run",
    [() => 1, (value: unknown) => void (received = value)],
  );
  assert.equal(result, "StubDisposedError");
  assert.equal(received, undefined);
});

attack("revoking a capability on one worker leaves another worker's copy working", async () => {
  class Counter extends RpcTarget {
    n = 0;
    bump(): number {
      return ++this.n;
    }
  }
  const counter = new Counter();
  const source = `let c; export default { keep(x) { c = x; return "kept"; }, async bump() { try { return await c.bump(); } catch (e) { return e.name; } } };`;
  const a = load(source);
  const b = load(source);
  await (a.getEntrypoint() as any).keep(counter);
  await (b.getEntrypoint() as any).keep(counter);
  assert.equal(a.revoke(counter), true);
  assert.equal(await (a.getEntrypoint() as any).bump(), "StubDisposedError");
  assert.equal(await (b.getEntrypoint() as any).bump(), 1);
});

attack("a stub of a disposed worker, passed into another worker, fails there with WorkerDisposedError", async () => {
  const maker = load(`export default { make() { return (x) => x * 2; } };`);
  const double = await (maker.getEntrypoint() as any).make();
  maker.dispose();
  const result = await call(`export default { async run(f) { try { return await f(2); } catch (e) { return e.name; } } };`, "run", [double]);
  assert.equal(result, "WorkerDisposedError");
});

attack("data shaped like the wire format is only data: no capability can be named by value", async () => {
  const wireShaped = [{ a: 1 }, [[["a"], 2, 1]]];
  let received: unknown;
  const result = await call(
    `export default { async run(sink) { const v = [{ a: 1 }, [[["a"], 2, 1]]]; await sink(v); return v; } };`,
    "run",
    [(value: unknown) => void (received = value)],
  );
  assert.deepEqual(result, wireShaped);
  assert.deepEqual(received, wireShaped);
});

attack("re-entrancy: host and sandbox call each other 20 deep, and a second entrypoint call runs mid-call", async () => {
  const stub = load(`let depth = 0; export default {
    async down(host, n) { depth++; const r = n === 0 ? await host.side() : await host.up(n - 1); depth--; return r; },
    peek() { return depth; },
  };`);
  const ep = stub.getEntrypoint() as any;
  const seenDepths: number[] = [];
  class Host extends RpcTarget {
    async up(n: number): Promise<unknown> {
      return ep.down(this, n);
    }
    async side(): Promise<string> {
      seenDepths.push(await ep.peek());
      return "bottom";
    }
  }
  assert.equal(await ep.down(new Host(), 20), "bottom");
  assert.deepEqual(seenDepths, [21]);
  assert.equal(await ep.peek(), 0);
});

attack("unbounded re-entrant recursion through the host ends with SubrequestLimitError", async () => {
  const stub = load(`export default { async recurse(host) { return await host.again(); } };`, { limits: { subRequests: 30 } });
  const ep = stub.getEntrypoint() as any;
  class Host extends RpcTarget {
    async again(): Promise<unknown> {
      return ep.recurse(this);
    }
  }
  await rejectsWith(ep.recurse(new Host()), SubrequestLimitError);
});

attack("a host callback into a sandbox that is spinning waits, and both calls end with CpuLimitError", async () => {
  const stub = load(`export default { spin(host) { host.poke(() => "ran"); for (;;) {} } };`);
  const ep = stub.getEntrypoint() as any;
  let poked: Promise<unknown> | undefined;
  const spinning = ep.spin({ poke: (callback: () => Promise<unknown>) => void (poked = callback()) });
  await rejectsWith(spinning, CpuLimitError);
  assert.ok(poked !== undefined);
  await rejectsWith(poked, CpuLimitError);
});

attack("thenables returned by a handler are settled inside the sandbox, and one that never settles hits wallMs", async () => {
  assert.equal(await call(`export default { run() { return { then(resolve) { resolve(42); } }; } };`, "run"), 42);
  await rejectsWith(call(`export default { run() { return { then() {} }; } };`, "run", [], { limits: { wallMs: 150 } }), WallTimeLimitError);
});

attack("Symbol.species: islet copies an Array subclass without asking it; a Promise subclass's species runs only in the sandbox", async () => {
  const source = `class Evil extends Array { static get [Symbol.species]() { throw new Error("array species ran"); } }
    class EvilPromise extends Promise { static get [Symbol.species]() { throw new TypeError("promise species ran"); } }
    export default { array() { return Evil.of(1, 2); }, promise() { return new EvilPromise((resolve) => resolve(3)); } };`;
  const array = await call(source, "array");
  assert.deepEqual(array, [1, 2]);
  assert.equal(Object.getPrototypeOf(array), Array.prototype);
  // Adopting the returned promise calls its then(), which asks for the species: sandbox code, in the invocation.
  await rejectsWith(call(source, "promise"), TypeError, /^promise species ran$/);
});

attack("toJSON, toString and valueOf in a result run no sandbox code synchronously and cannot crash the host", async () => {
  const stub = load(`let calls = 0; export default {
    run() { const boom = () => { calls++; throw new Error("boom"); }; return { a: 1, toJSON: boom, toString: boom, valueOf: boom, [Symbol.toPrimitive]: boom }; },
    calls() { return calls; },
  };`);
  const value = await (stub.getEntrypoint() as any).run();
  assert.equal(JSON.stringify(value), "{}");
  assert.throws(() => `${value}`, TypeError);
  assert.equal(await (stub.getEntrypoint() as any).calls(), 3, "the three coercion calls ran later, inside the sandbox");
  // Their rejections were handled: an unhandled one would have ended this process by now.
  await new Promise((resolve) => setTimeout(resolve, 20));
});

attack("JSON.stringify and String() of an entrypoint do not crash the host", async () => {
  const ep = load(`export default { ok() { return "ok"; } };`).getEntrypoint();
  assert.equal(JSON.stringify(ep), "{}");
  assert.throws(() => String(ep), TypeError);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await (ep as any).ok(), "ok");
});
