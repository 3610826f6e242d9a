// cloudflare:sockets: a sandbox's connect() reaches TCP only through its globalOutbound's
// connect (islet/outbound connectTcp over node:net and node:tls), against real loopback servers:
// echo, TLS from the start and STARTTLS, refusal without a hook, the allow-list, private
// addresses on the address actually connected to, the subrequest and open-socket budgets, and
// sockets closed when their invocation ends or the worker is disposed. Every test in every
// isolation mode (ISLET_ISOLATION narrows the run to one).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket as NetSocket } from "node:net";
import { createServer as createTlsServer, TLSSocket } from "node:tls";
import { SubrequestLimitError, WorkerLoader, type TailEvent, type WorkerCode } from "islet";
import { connectTcp } from "islet/outbound";
import { compatibilityDate, sleep } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

// A self-signed certificate for db.islet.test and 127.0.0.1, made for these tests only.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBqDCCAU2gAwIBAgIUT0PTBSSt8VUwxU2h/e8YA1WRQ4MwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNZGIuaXNsZXQudGVzdDAgFw0yNjEyMDcxMjM5NDRaGA8yMTI2
MTExMzEyMzk0NFowGDEWMBQGA1UEAwwNZGIuaXNsZXQudGVzdDBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABHZQ3eXcEZoxeI+hBMwlMBU63L18BssvgPBJMJD0Y799
ceF+7y4A80t/GH0cF2YPMcseshX6zNrj0QtPrmShHqmjczBxMB0GA1UdDgQWBBSo
PFbykVhepDjW/hGESba6Auf2MjAfBgNVHSMEGDAWgBSoPFbykVhepDjW/hGESba6
Auf2MjAPBgNVHRMBAf8EBTADAQH/MB4GA1UdEQQXMBWCDWRiLmlzbGV0LnRlc3SH
BH8AAAEwCgYIKoZIzj0EAwIDSQAwRgIhAOPUo9xGPoqN1k37fm3MTcIqjP70IrKZ
Dh/613worWfDAiEAtD/4fBK5zarpJwfwt9Z2/GM5UhhhCDQRdBzIQsgZWDc=
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwPfkMsCJG69DF4X0
mRWYkaodRVfcA7DdyrNbsN44FdahRANCAAR2UN3l3BGaMXiPoQTMJTAVOty9fAbL
L4DwSTCQ9GO/fXHhfu8uAPNLfxh9HBdmDzHLHrIV+sza49ELT65koR6p
-----END PRIVATE KEY-----
`;

/** A loopback server that records its connections (and when each closed). */
interface Recorded {
  server: Server;
  port: number;
  connections: NetSocket[];
  closed: number;
}

async function listen(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return (server.address() as { port: number }).port;
}

async function recorded(handle: (socket: NetSocket) => void, make: (listener: (socket: NetSocket) => void) => Server = createServer): Promise<Recorded> {
  const state = { connections: [] as NetSocket[], closed: 0 } as Recorded;
  state.server = make((socket) => {
    state.connections.push(socket);
    socket.on("close", () => state.closed++);
    socket.on("error", () => {});
    handle(socket);
  });
  state.port = await listen(state.server);
  return state;
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const WORKER = `
  import { connect } from "cloudflare:sockets";
  import { WorkerEntrypoint } from "cloudflare:workers";
  const text = (bytes) => new TextDecoder().decode(bytes);
  async function readAll(readable) { return text(await new Response(readable).arrayBuffer()); }
  export default class extends WorkerEntrypoint {
    async echo(address, message, options) {
      const socket = connect(address, options);
      const info = await socket.opened;
      const writer = socket.writable.getWriter();
      await writer.write(new TextEncoder().encode(message));
      await writer.close();
      const out = await readAll(socket.readable);
      await socket.closed;
      return { out, remoteAddress: info.remoteAddress, secureTransport: socket.secureTransport };
    }
    async echoBytes(port, size) {
      const socket = connect({ hostname: "127.0.0.1", port });
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = i % 251;
      const writing = (async () => { const w = socket.writable.getWriter(); await w.write(bytes); await w.close(); })();
      const back = new Uint8Array(await new Response(socket.readable).arrayBuffer());
      await writing;
      let same = back.length === size;
      for (let i = 0; same && i < size; i++) same = back[i] === i % 251;
      return { length: back.length, same };
    }
    async failure(address, options) {
      let thrown = null;
      let socket;
      try { socket = connect(address, options); } catch (error) { thrown = { name: error.name, message: error.message }; }
      if (thrown) return { thrown };
      const opened = await socket.opened.then(() => "opened", (error) => error.name + ": " + error.message);
      const closed = await socket.closed.then(() => "closed", (error) => error.name + ": " + error.message);
      return { opened, closed };
    }
    async fetchFails() {
      try { await fetch("https://example.com/"); return "fetched"; } catch (error) { return error.name + ": " + error.message; }
    }
    async many(port, count) {
      const sockets = [];
      const results = [];
      for (let i = 0; i < count; i++) sockets.push(connect({ hostname: "127.0.0.1", port }));
      for (const socket of sockets) results.push(await socket.opened.then(() => "ok", (error) => error.message));
      await Promise.allSettled(sockets.map((socket) => socket.close()));
      return results;
    }
    async sequential(port, count) {
      const results = [];
      for (let i = 0; i < count; i++) {
        const socket = connect({ hostname: "127.0.0.1", port });
        results.push(await socket.opened.then(() => "ok", (error) => error.name + ": " + error.message));
        await socket.close();
      }
      return results;
    }
    async leave(port) {
      const socket = connect({ hostname: "127.0.0.1", port });
      await socket.opened;
      const writer = socket.writable.getWriter();
      await writer.write(new TextEncoder().encode("x"));
      globalThis.leftOpen = writer;
      return "left open";
    }
    async hold(port) {
      const socket = connect({ hostname: "127.0.0.1", port });
      await socket.opened;
      await this.env.opened();
      return readAll(socket.readable);
    }
    async reuse() {
      return globalThis.leftOpen.write(new TextEncoder().encode("y")).then(() => "wrote", (error) => error.name + ": " + error.message);
    }
    async halfOpen(port, allowHalfOpen) {
      const socket = connect({ hostname: "127.0.0.1", port }, { allowHalfOpen });
      const heard = await readAll(socket.readable);
      const writer = socket.writable.getWriter();
      const wrote = await writer.write(new TextEncoder().encode("late")).then(() => "wrote", (error) => error.name);
      if (allowHalfOpen) await writer.close();
      await socket.closed;
      return { heard, wrote };
    }
    async starttls(port, message) {
      const socket = connect({ hostname: "127.0.0.1", port }, { secureTransport: "starttls" });
      const writer = socket.writable.getWriter();
      await writer.write(new TextEncoder().encode("STARTTLS\\r\\n"));
      const reader = socket.readable.getReader();
      const { value } = await reader.read();
      const greeting = text(value);
      reader.releaseLock();
      writer.releaseLock();
      const secure = socket.startTls({ expectedServerHostname: "db.islet.test" });
      await secure.opened;
      const again = (() => { try { socket.startTls(); return "no error"; } catch (error) { return error.message; } })();
      const w = secure.writable.getWriter();
      await w.write(new TextEncoder().encode(message));
      await w.close();
      const out = await readAll(secure.readable);
      await socket.closed;
      return { greeting, out, upgraded: socket.upgraded, again };
    }
  }`;

const code = (extra: Partial<WorkerCode> = {}): WorkerCode => ({ compatibilityDate, mainModule: "w.js", modules: { "w.js": WORKER }, ...extra });

let echo: Recorded;
let silent: Recorded;
let tlsEcho: Recorded;
let starttls: Recorded;
let talker: Recorded;
const heardByTalker: string[] = [];

before(async () => {
  echo = await recorded((socket) => socket.pipe(socket));
  silent = await recorded(() => {});
  tlsEcho = await recorded((socket) => socket.pipe(socket), (listener) => createTlsServer({ key: KEY, cert: CERT }, listener) as unknown as Server);
  // Says "bye" and ends its side at once, then records what still arrives.
  talker = await recorded((socket) => {
    socket.setEncoding("utf8");
    let heard = "";
    socket.on("data", (text) => (heard += text));
    socket.on("end", () => {
      heardByTalker.push(heard);
      socket.end();
    });
    socket.end("bye");
  }, (listener) => createServer({ allowHalfOpen: true }, listener));
  starttls = await recorded((socket) => {
    socket.once("data", (line) => {
      if (line.toString() !== "STARTTLS\r\n") return socket.destroy();
      socket.write("OK\r\n", () => {
        const secure = new TLSSocket(socket, { isServer: true, key: KEY, cert: CERT });
        secure.on("error", () => {});
        secure.on("data", (chunk) => secure.write(Buffer.concat([Buffer.from("tls:"), chunk])));
        secure.on("end", () => secure.end());
      });
    });
  });
});

after(() => {
  for (const server of [echo, silent, tlsEcho, starttls, talker]) {
    for (const socket of server.connections) socket.destroy();
    server.server.close();
  }
});

for (const isolation of modes) {
  describe(`cloudflare:sockets (${isolation})`, () => {
    const loaders: WorkerLoader[] = [];
    const loaderWith = (options: ConstructorParameters<typeof WorkerLoader>[0] = {}) => {
      const loader = new WorkerLoader({ isolation, ...shards(isolation), ...options });
      loaders.push(loader);
      return loader;
    };
    const loopback = (allowHosts: string[], extra: Partial<Parameters<typeof connectTcp>[0]> = {}) => ({ connect: connectTcp({ allowHosts, denyPrivateAddresses: false, ...extra }) });
    after(async () => {
      for (const loader of loaders) await loader.close();
    });

    test("connect() echoes through a real TCP server, the address as a string or a record", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) });
      const worker = loader.load(code());
      const byRecord = await worker.getEntrypoint().echo({ hostname: "127.0.0.1", port: echo.port }, "hello");
      assert.deepEqual(byRecord, { out: "hello", remoteAddress: `127.0.0.1:${echo.port}`, secureTransport: "off" });
      const byString = await worker.getEntrypoint().echo(`127.0.0.1:${echo.port}`, "again");
      assert.equal(byString.out, "again");
    });

    test("a megabyte crosses both ways in order (writes in pieces, reads pulled)", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) });
      const result = await loader.load(code()).getEntrypoint().echoBytes(echo.port, 1024 * 1024 + 7);
      assert.deepEqual(result, { length: 1024 * 1024 + 7, same: true });
    });

    test("without a connect hook connect() throws Cloudflare's error, and the host never connects", async () => {
      const before = echo.connections.length;
      const blocked = [
        loaderWith().load(code()), // globalOutbound null
        loaderWith({ globalOutbound: () => new Response("fetch only") }).load(code()), // a function: fetch only
        loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) }).load(code({ globalOutbound: null })), // the code's null wins
      ];
      for (const worker of blocked) {
        const { thrown } = await worker.getEntrypoint().failure({ hostname: "127.0.0.1", port: echo.port });
        assert.equal(thrown.name, "Error");
        assert.match(thrown.message, /^This worker is not permitted to access the internet via global functions like connect\(\)/);
      }
      assert.equal(echo.connections.length, before);
    });

    test("an object with only connect gives no fetch()", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) });
      assert.match(await loader.load(code()).getEntrypoint().fetchFails(), /^TypeError: This worker is not permitted to access the internet via global functions like fetch\(\)/);
    });

    test("a host or port off the allow-list is refused before any connection", async () => {
      const before = silent.connections.length;
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) });
      const result = await loader.load(code()).getEntrypoint().failure({ hostname: "127.0.0.1", port: silent.port });
      assert.deepEqual(result, {
        opened: `Error: The host 127.0.0.1:${silent.port} is not on this worker's allow-list for connect().`,
        closed: `Error: The host 127.0.0.1:${silent.port} is not on this worker's allow-list for connect().`,
      });
      assert.equal(silent.connections.length, before);
    });

    test("private addresses are refused by default, an IP literal in any spelling and a name that resolves to one", async () => {
      const before = echo.connections.length;
      // A name whose lookup answers 127.0.0.1 (DNS rebinding), and loopback spelled as a number.
      const lookup = ((_host: string, options: { all?: boolean }, callback: (error: null, address: unknown, family?: number) => void) =>
        options.all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4)) as never;
      const connect = connectTcp({ allowHosts: [`db.islet.test:${echo.port}`, `127.0.0.1:${echo.port}`], lookup });
      const worker = loaderWith({ globalOutbound: { connect } }).load(code());
      for (const hostname of ["db.islet.test", "2130706433", "127.1", "127.0.0.1"]) {
        const result = await worker.getEntrypoint().failure({ hostname, port: echo.port });
        assert.match(result.opened, /^Error: The host .* is a private or loopback address, which workers on this server may not reach\.$/, hostname);
      }
      assert.equal(echo.connections.length, before, "the server saw no connection");
    });

    test("each connect() counts against subRequests: past the limit the invocation fails and the host does not connect", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]), limits: { subRequests: 3 } });
      const worker = loader.load(code());
      const before = echo.connections.length;
      await assert.rejects(worker.getEntrypoint().sequential(echo.port, 4), (error: Error) => error instanceof SubrequestLimitError && /limit of 3 subrequests/.test(error.message));
      await sleep(50);
      assert.equal(echo.connections.length - before, 3);
      // The next invocation has its own count.
      assert.deepEqual(await worker.getEntrypoint().sequential(echo.port, 3), ["ok", "ok", "ok"]);
    });

    test("at most 100 sockets open per worker: the 101st is refused, and closing makes room", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) });
      const worker = loader.load(code());
      const results = await worker.getEntrypoint().many(echo.port, 101);
      assert.deepEqual(results.slice(0, 100), Array(100).fill("ok"));
      assert.equal(results[100], "Too many sockets open (at most 100); close earlier ones first.");
      assert.deepEqual(await worker.getEntrypoint().many(echo.port, 100), Array(100).fill("ok"));
    });

    test("a socket left open is closed when its invocation ends, and is dead in the next one", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) });
      const worker = loader.load(code());
      const before = echo.closed;
      assert.equal(await worker.getEntrypoint().leave(echo.port), "left open");
      await until(() => echo.closed > before, 5_000, "the server to see the socket close");
      assert.match(await worker.getEntrypoint().reuse(), /^Error: (This socket is closed\.|Network connection lost\.)$/);
    });

    test("dispose() closes the worker's sockets on the host", async () => {
      let opened!: () => void;
      const isOpen = new Promise<void>((resolve) => (opened = resolve));
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${silent.port}`]) });
      const worker = loader.load(code({ env: { opened: () => opened() } }));
      const before = silent.closed;
      const call = worker.getEntrypoint().hold(silent.port);
      call.catch(() => {});
      await Promise.race([isOpen, call]);
      assert.equal(silent.connections.length - silent.closed > 0, true);
      worker.dispose();
      await assert.rejects(call, { name: "WorkerDisposedError" });
      await until(() => silent.closed > before, 5_000, "the server to see the socket close");
    });

    test("allowHalfOpen: without it the peer's end closes the writable side; with it the socket can still write", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${talker.port}`]) });
      const worker = loader.load(code());
      assert.deepEqual(await worker.getEntrypoint().halfOpen(talker.port, false), { heard: "bye", wrote: "TypeError" });
      const before = heardByTalker.length;
      assert.deepEqual(await worker.getEntrypoint().halfOpen(talker.port, true), { heard: "bye", wrote: "wrote" });
      await until(() => heardByTalker.slice(before).includes("late"), 5_000, "the server to hear the late write, then the end");
    });

    test("the trace event's audit log lists each connect() as CONNECT and its address", async () => {
      const events: TailEvent[] = [];
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]), tails: [(batch) => void events.push(...batch)] });
      await loader.load(code()).getEntrypoint().echo({ hostname: "127.0.0.1", port: echo.port }, "audit");
      await until(() => events.length > 0, 5_000, "the tail event");
      assert.deepEqual(events[0].fetches.map(({ method, url, error }) => ({ method, url, error })), [{ method: "CONNECT", url: `127.0.0.1:${echo.port}`, error: undefined }]);
    });

    test('secureTransport "on" speaks TLS from the start, checked against the host\'s CA', async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${tlsEcho.port}`], { tls: { ca: CERT } }) });
      const worker = loader.load(code());
      const result = await worker.getEntrypoint().echo({ hostname: "127.0.0.1", port: tlsEcho.port }, "over tls", { secureTransport: "on" });
      assert.deepEqual(result, { out: "over tls", remoteAddress: `127.0.0.1:${tlsEcho.port}`, secureTransport: "on" });
      // Without the CA the certificate is not trusted: the connection fails, with no host detail.
      const untrusted = loaderWith({ globalOutbound: loopback([`127.0.0.1:${tlsEcho.port}`]) }).load(code());
      const failed = await untrusted.getEntrypoint().failure({ hostname: "127.0.0.1", port: tlsEcho.port }, { secureTransport: "on" });
      assert.equal(failed.opened, "Error: proxy request failed, cannot connect to the specified address");
    });

    test("startTls() upgrades a starttls socket once", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${starttls.port}`], { tls: { ca: CERT } }) });
      const result = await loader.load(code()).getEntrypoint().starttls(starttls.port, "secret");
      assert.deepEqual(result, { greeting: "OK\r\n", out: "tls:secret", upgraded: true, again: "startTls can only be called once." });
    });

    test("invalid addresses and options are TypeErrors in the sandbox, before the host is asked", async () => {
      const loader = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) });
      const worker = loader.load(code());
      assert.deepEqual((await worker.getEntrypoint().failure("", {})).thrown, { name: "TypeError", message: "Specified address is empty string, contains unsupported characters or is too long." });
      assert.deepEqual((await worker.getEntrypoint().failure("a b:1", {})).thrown, { name: "TypeError", message: "Specified address is empty string, contains unsupported characters or is too long." });
      assert.deepEqual((await worker.getEntrypoint().failure({ hostname: "127.0.0.1", port: 70000 }, {})).thrown, { name: "TypeError", message: "The specified port is not valid." });
      assert.deepEqual((await worker.getEntrypoint().failure(`127.0.0.1:${echo.port}`, { secureTransport: "maybe" })).thrown, { name: "TypeError", message: "Unsupported value in secureTransport socket option: maybe" });
    });
  });
}
