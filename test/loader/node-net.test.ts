// node:net's client Socket and node:tls's connect() in a sandbox, over cloudflare:sockets'
// connect(): against real loopback servers, each client run in the sandbox and, the same source,
// with the host's own Node net/tls against the same server, so the events come in Node's order.
// The same globalOutbound.connect hook governs them (refusal without one, the allow-list, private
// addresses). Every test in every isolation mode (ISLET_ISOLATION narrows the run to one).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as nodeNet from "node:net";
import * as nodeTls from "node:tls";
import { createServer, type Server, type Socket as NetSocket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { WorkerLoader, type WorkerCode } from "islet";
import { connectTcp } from "islet/outbound";
import { compatibilityDate } from "../helpers.ts";

type Isolation = "isolate" | "thread" | "process";
const modes: Isolation[] = process.env.ISLET_ISOLATION === "thread" || process.env.ISLET_ISOLATION === "process" ? [process.env.ISLET_ISOLATION] : ["isolate", "thread", "process"];
const shards = (isolation: Isolation) => (isolation === "thread" ? { threads: 1 } : isolation === "process" ? { processes: 1 } : {});

// The self-signed certificate of test/loader/sockets.test.ts: db.islet.test and 127.0.0.1.
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

// The clients, as source: evaluated in the sandbox (with islet's node:net and node:tls) and on
// the host (with Node's), each resolving to what it saw.
const CLIENTS = `({
  // Events in order ('data' once per run of chunks), what came back, and the addresses.
  echo(net, how, port, message) {
    return new Promise((resolve) => {
      const events = [];
      const seen = (name) => { if (events[events.length - 1] !== name) events.push(name); };
      const socket = how === "args" ? net.connect(port, "127.0.0.1") : how === "options" ? net.createConnection({ port, host: "127.0.0.1" }) : new net.Socket().connect({ port, host: "127.0.0.1" });
      socket.setEncoding("utf8");
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 1000);
      let out = "";
      let addresses;
      socket.on("connect", () => {
        seen("connect");
        addresses = { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, remoteFamily: socket.remoteFamily, local: typeof socket.localPort === "number" && socket.localAddress === "127.0.0.1" };
        socket.write(message);
      });
      socket.on("ready", () => seen("ready"));
      socket.on("data", (text) => {
        seen("data");
        out += text;
        if (out.length >= message.length) socket.end();
      });
      socket.on("end", () => seen("end"));
      socket.on("finish", () => seen("finish"));
      socket.on("error", (error) => seen("error: " + error.message));
      socket.on("close", (hadError) => {
        seen("close(" + hadError + ")");
        // 'finish' (our end() done) and 'end' (the echo's end) race: each side's own order is not checked.
        resolve({ events: events.filter((name) => name !== "finish"), finished: events.includes("finish"), out, addresses, bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten, destroyed: socket.destroyed, readyState: socket.readyState });
      });
    });
  },
  // A peer that says "bye" and ends: without allowHalfOpen this side ends too; a later write is EPIPE.
  peerEnds(net, port) {
    return new Promise((resolve) => {
      const events = [];
      const socket = net.connect({ port, host: "127.0.0.1" });
      let heard = "";
      socket.on("data", (chunk) => (heard += chunk));
      socket.on("end", () => events.push("end"));
      socket.on("finish", () => events.push("finish"));
      socket.on("error", (error) => events.push("error: " + error.code));
      socket.on("close", (hadError) => {
        events.push("close(" + hadError + ")");
        socket.write("late", (error) => events.push("write callback: " + (error && error.code)));
        setTimeout(() => resolve({ heard, events }), 20);
      });
    });
  },
  // destroy() while connecting: no 'connect', one 'close' without error.
  destroyEarly(net, port) {
    return new Promise((resolve) => {
      const events = [];
      const socket = net.connect(port, "127.0.0.1");
      for (const name of ["connect", "ready", "end", "finish"]) socket.on(name, () => events.push(name));
      socket.on("error", (error) => events.push("error: " + error.message));
      socket.on("close", (hadError) => {
        events.push("close(" + hadError + ")");
        setTimeout(() => resolve(events), 20);
      });
      socket.destroy();
    });
  },
  // A large write: write() says false, 'drain' follows, every byte comes back in order.
  big(net, port, size) {
    return new Promise((resolve) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = i % 251;
      const socket = net.connect(port, "127.0.0.1");
      let wrote;
      let drained = false;
      const chunks = [];
      let received = 0;
      socket.on("connect", () => {
        wrote = socket.write(bytes);
        socket.once("drain", () => {
          drained = true;
          socket.end();
        });
      });
      // Paused for a while: the reads stop and the writes still complete.
      socket.pause();
      setTimeout(() => socket.resume(), 50);
      socket.on("data", (chunk) => {
        chunks.push(chunk);
        received += chunk.length;
      });
      socket.on("error", (error) => resolve({ error: error.message }));
      socket.on("close", () => {
        let same = received === size;
        let offset = 0;
        for (const chunk of chunks) for (let i = 0; same && i < chunk.length; i++, offset++) same = chunk[i] === offset % 251;
        resolve({ wrote, drained, received, same, isBuffer: chunks.every((chunk) => chunk instanceof Uint8Array && typeof chunk.readUInt8 === "function") });
      });
    });
  },
  // An error on the way in: the 'error' event, then 'close' with hadError.
  refused(net, port, host) {
    return new Promise((resolve) => {
      const events = [];
      const socket = net.connect({ port, host });
      socket.on("connect", () => events.push("connect"));
      let message;
      socket.on("error", (error) => events.push("error"));
      socket.on("error", (error) => (message = error.message));
      socket.on("close", (hadError) => {
        events.push("close(" + hadError + ")");
        resolve({ events, message });
      });
    });
  },
  // The idle timer: 'timeout' after the given quiet time.
  idle(net, port) {
    return new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      const started = Date.now();
      socket.setTimeout(30, () => {
        const waited = Date.now() - started;
        socket.destroy();
        resolve({ timeout: true, waited });
      });
    });
  },
  // TLS from the start: secureConnect, then an echo.
  tlsEcho(tls, port, message, options) {
    return new Promise((resolve) => {
      const events = [];
      const seen = (name) => { if (events[events.length - 1] !== name) events.push(name); };
      const socket = tls.connect({ host: "127.0.0.1", port, ...options }, () => seen("callback"));
      let out = "";
      socket.on("connect", () => seen("connect"));
      socket.on("secureConnect", () => {
        seen("secureConnect");
        socket.write(message);
      });
      socket.on("data", (chunk) => {
        seen("data");
        out += chunk;
        if (out.length >= message.length) socket.end();
      });
      socket.on("end", () => seen("end"));
      socket.on("error", (error) => seen("error"));
      socket.on("close", (hadError) => {
        seen("close(" + hadError + ")");
        resolve({ events: events.filter((name) => name !== "connect" && name !== "ready"), out, encrypted: socket.encrypted, authorized: socket.authorized });
      });
    });
  },
})`;

const WORKER = `
  import net from "node:net";
  import tls from "node:tls";
  import { WorkerEntrypoint } from "cloudflare:workers";
  const clients = ${CLIENTS};
  export default class extends WorkerEntrypoint {
    echo(how, port, message) { return clients.echo(net, how, port, message); }
    peerEnds(port) { return clients.peerEnds(net, port); }
    destroyEarly(port) { return clients.destroyEarly(net, port); }
    big(port, size) { return clients.big(net, port, size); }
    refused(port, host) { return clients.refused(net, port, host); }
    idle(port) { return clients.idle(net, port); }
    tlsEcho(port, message, options) { return clients.tlsEcho(tls, port, message, options); }
    throws() {
      const result = {};
      for (const [name, call] of Object.entries({
        createServer: () => net.createServer(),
        rejectUnauthorized: () => tls.connect({ host: "127.0.0.1", port: 1, rejectUnauthorized: false }),
        path: () => net.connect({ path: "/tmp/socket" }),
        badPort: () => net.connect(70000, "127.0.0.1"),
      })) {
        try { call(); result[name] = "no error"; } catch (error) { result[name] = error.code; }
      }
      return result;
    }
  }`;

// eslint-disable-next-line no-eval
const hostClients = (0, eval)(CLIENTS) as Record<string, (...args: unknown[]) => Promise<unknown>>;
const code = (extra: Partial<WorkerCode> = {}): WorkerCode => ({ compatibilityDate, compatibilityFlags: ["nodejs_compat"], mainModule: "w.js", modules: { "w.js": WORKER }, ...extra });

interface Recorded {
  server: Server;
  port: number;
  connections: NetSocket[];
}

async function recorded(handle: (socket: NetSocket) => void, make: (listener: (socket: NetSocket) => void) => Server = createServer): Promise<Recorded> {
  const state = { connections: [] as NetSocket[] } as Recorded;
  state.server = make((socket) => {
    state.connections.push(socket);
    socket.on("error", () => {});
    handle(socket);
  });
  state.server.listen(0, "127.0.0.1");
  await new Promise((resolve) => state.server.once("listening", resolve));
  state.port = (state.server.address() as { port: number }).port;
  return state;
}

let echo: Recorded;
let silent: Recorded;
let talker: Recorded;
let tlsEcho: Recorded;

before(async () => {
  echo = await recorded((socket) => socket.pipe(socket));
  silent = await recorded(() => {});
  talker = await recorded((socket) => socket.end("bye"));
  tlsEcho = await recorded((socket) => socket.pipe(socket), (listener) => createTlsServer({ key: KEY, cert: CERT }, listener) as unknown as Server);
});

after(() => {
  for (const server of [echo, silent, talker, tlsEcho]) {
    for (const socket of server.connections) socket.destroy();
    server.server.close();
  }
});

for (const isolation of modes) {
  describe(`node:net and node:tls over connect() (${isolation})`, () => {
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

    test("net.connect echoes through a real server with Node's events in Node's order, and its addresses", async () => {
      const worker = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) }).load(code());
      for (const how of ["args", "options", "socket"]) {
        const ours = (await worker.getEntrypoint().echo(how, echo.port, "hello, node:net")) as Record<string, unknown>;
        const nodes = (await hostClients.echo(nodeNet, how, echo.port, "hello, node:net")) as Record<string, unknown>;
        assert.deepEqual(ours, nodes, how);
        assert.deepEqual(ours.events, ["connect", "ready", "data", "end", "close(false)"]);
        assert.equal(ours.finished, true);
        assert.deepEqual(ours.addresses, { remoteAddress: "127.0.0.1", remotePort: echo.port, remoteFamily: "IPv4", local: true });
      }
    });

    test("the peer's end ends this side too (no allowHalfOpen), and a write after it is EPIPE, as Node's", async () => {
      const worker = loaderWith({ globalOutbound: loopback([`127.0.0.1:${talker.port}`]) }).load(code());
      const ours = await worker.getEntrypoint().peerEnds(talker.port);
      assert.deepEqual(ours, await hostClients.peerEnds(nodeNet, talker.port));
      assert.deepEqual(ours, { heard: "bye", events: ["end", "finish", "close(false)", "write callback: EPIPE"] });
    });

    test("destroy() while connecting: one 'close' without error, as Node's", async () => {
      const worker = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) }).load(code());
      const ours = await worker.getEntrypoint().destroyEarly(echo.port);
      assert.deepEqual(ours, await hostClients.destroyEarly(nodeNet, echo.port));
      assert.deepEqual(ours, ["close(false)"]);
    });

    test("a large write has backpressure: write() is false, 'drain' follows, all bytes come back in order (paused a while)", async () => {
      const worker = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) }).load(code());
      const size = 4 * 1024 * 1024 + 3;
      const ours = await worker.getEntrypoint().big(echo.port, size);
      assert.deepEqual(ours, { wrote: false, drained: true, received: size, same: true, isBuffer: true });
    });

    test("without a connect hook: the 'error' event with Cloudflare's words, and the server sees nothing", async () => {
      const before = echo.connections.length;
      const worker = loaderWith({ globalOutbound: null }).load(code());
      const result = (await worker.getEntrypoint().refused(echo.port, "127.0.0.1")) as { events: string[]; message: string };
      assert.deepEqual(result.events, ["error", "close(true)"]);
      assert.match(result.message, /^This worker is not permitted to access the internet via global functions like connect\(\)/);
      assert.equal(echo.connections.length, before);
    });

    test("a host off the allow-list, and a private address: the 'error' event with the policy's words", async () => {
      const before = silent.connections.length + echo.connections.length;
      const worker = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) }).load(code());
      const offList = (await worker.getEntrypoint().refused(silent.port, "127.0.0.1")) as { events: string[]; message: string };
      assert.deepEqual(offList, { events: ["error", "close(true)"], message: `The host 127.0.0.1:${silent.port} is not on this worker's allow-list for connect().` });
      const strict = loaderWith({ globalOutbound: { connect: connectTcp({ allowHosts: [`127.0.0.1:${echo.port}`] }) } }).load(code());
      const loopbackRefused = (await strict.getEntrypoint().refused(echo.port, "127.0.0.1")) as { events: string[]; message: string };
      assert.deepEqual(loopbackRefused.events, ["error", "close(true)"]);
      assert.match(loopbackRefused.message, /^The host 127\.0\.0\.1 is a private or loopback address/);
      assert.equal(silent.connections.length + echo.connections.length, before);
    });

    test("setTimeout() is real: 'timeout' after the quiet time", async () => {
      const worker = loaderWith({ globalOutbound: loopback([`127.0.0.1:${silent.port}`]) }).load(code());
      const result = (await worker.getEntrypoint().idle(silent.port)) as { timeout: boolean; waited: number };
      assert.equal(result.timeout, true);
      assert.ok(result.waited >= 25, `waited ${result.waited} ms`);
    });

    test("tls.connect is TLS from the start, checked against the host's CA, with servername; events as Node's", async () => {
      const worker = loaderWith({ globalOutbound: loopback([`127.0.0.1:${tlsEcho.port}`], { tls: { ca: CERT } }) }).load(code());
      for (const options of [{}, { servername: "db.islet.test" }]) {
        const ours = await worker.getEntrypoint().tlsEcho(tlsEcho.port, "over tls", options);
        const nodes = await hostClients.tlsEcho(nodeTls, tlsEcho.port, "over tls", { ...options, ca: CERT });
        assert.deepEqual(ours, nodes, JSON.stringify(options));
        assert.deepEqual(ours, { events: ["callback", "secureConnect", "data", "end", "close(false)"], out: "over tls", encrypted: true, authorized: true });
      }
      // A name the certificate does not carry fails the handshake, as does a host without the CA.
      const wrongName = (await worker.getEntrypoint().tlsEcho(tlsEcho.port, "x", { servername: "other.islet.test" })) as { events: string[] };
      assert.deepEqual(wrongName.events, ["error", "close(true)"]);
      const untrusted = loaderWith({ globalOutbound: loopback([`127.0.0.1:${tlsEcho.port}`]) }).load(code());
      const failed = (await untrusted.getEntrypoint().tlsEcho(tlsEcho.port, "x", {})) as { events: string[] };
      assert.deepEqual(failed.events, ["error", "close(true)"]);
    });

    test("servers, rejectUnauthorized: false, IPC paths and bad ports throw Node's codes", async () => {
      const worker = loaderWith({ globalOutbound: loopback([`127.0.0.1:${echo.port}`]) }).load(code());
      assert.deepEqual(await worker.getEntrypoint().throws(), { createServer: "ERR_METHOD_NOT_IMPLEMENTED", rejectUnauthorized: "ERR_OPTION_NOT_IMPLEMENTED", path: "ERR_INVALID_ARG_VALUE", badPort: "ERR_SOCKET_BAD_PORT" });
    });
  });
}
