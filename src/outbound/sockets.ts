// connectTcp(): globalOutbound's `connect` over node:net and node:tls, for cloudflare:sockets'
// connect() in a sandbox. The host makes the connection; the sandbox only reads and writes bytes
// through islet. Hosts are judged by an allow-list (host or host:port patterns, as allowHosts),
// and private addresses are refused on the address the connection actually goes to (its own name
// lookup drops private answers, and the connected socket's remote address is checked again), as
// denyPrivateAddresses() does for fetch.

import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { trace } from "@opentelemetry/api";
import { OutboundError } from "../errors.ts";
import type { HostSocket, SocketAddress, SocketConnector, SocketInfo, SocketOptions } from "../loader/code/types.ts";
import { checkPatterns, hostMatches, type HostPattern } from "./allow-hosts.ts";
import { isPrivateAddress, privateRefusal, privateRefusalIn, publicLookup, type LookupFunction } from "./private-addresses.ts";

export type { HostSocket, SocketAddress, SocketConnector, SocketInfo, SocketOptions };

export interface ConnectTcpOptions {
  /**
   * The hosts a sandbox may connect to: "db.example.com:5432" (that host and port),
   * "*.example.com:6379", "[2001:db8::1]:25", a RegExp tested against the hostname, or a host
   * without a port (any port: prefer pinning one). Required: there is no default.
   */
  allowHosts: readonly HostPattern[];
  /** Refuse loopback, private, link-local and metadata addresses, checked on the connection itself (default true). */
  denyPrivateAddresses?: boolean;
  /** Name resolution (default: node:dns lookup). */
  lookup?: LookupFunction;
  /** How long a connection (and a TLS handshake) may take, in ms (default 10,000). */
  timeoutMs?: number;
  /** Options for node:tls (`ca`, `rejectUnauthorized`…) for secureTransport "on" and startTls(); `servername` is always the address's host (or startTls's expectedServerHostname). */
  tls?: Omit<ConnectionOptions, "socket" | "host" | "port" | "servername" | "lookup">;
}

const HIGH_WATER_BYTES = 64 * 1024;

/**
 * A socket's bytes as web streams, detachable (startTls takes the raw socket over): the readable
 * side pauses the socket while its queue is full, so a sandbox that does not read holds the host
 * to about 64 KiB plus the kernel's buffers; writes resolve when the socket took them.
 */
function streamsOf(socket: Socket): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array>; detach(): void } {
  let onData: (chunk: Buffer) => void = () => {};
  let onEnd = () => {};
  let onError: (error: Error) => void = () => {};
  let onClose = () => {};
  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onData = (chunk) => {
          controller.enqueue(new Uint8Array(chunk));
          if ((controller.desiredSize ?? 0) <= 0) socket.pause();
        };
        const close = () => {
          try {
            controller.close();
          } catch {
            // already closed or errored
          }
        };
        onEnd = close;
        onClose = close;
        onError = (error) => {
          try {
            controller.error(error);
          } catch {
            // already closed
          }
        };
        socket.on("data", onData);
        socket.on("end", onEnd);
        socket.on("error", onError);
        socket.on("close", onClose);
        socket.pause();
      },
      pull() {
        socket.resume();
      },
      cancel() {
        socket.destroy();
      },
    },
    { highWaterMark: HIGH_WATER_BYTES, size: (chunk) => chunk.byteLength },
  );
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) =>
      new Promise<void>((resolve, reject) => {
        socket.write(chunk, (error) => (error ? reject(error) : resolve()));
      }),
    close: () =>
      new Promise<void>((resolve) => {
        socket.end(() => resolve());
      }),
    abort: () => {
      socket.destroy();
    },
  });
  return {
    readable,
    writable,
    detach() {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      socket.off("close", onClose);
    },
  };
}

/**
 * Resolves when `socket` is connected (`ready`: "connect", or "secureConnect" for TLS) and its
 * remote address passes `check`; rejects on an error, a timeout or a refusal (the socket destroyed).
 */
function whenOpen(socket: Socket, ready: "connect" | "secureConnect", timeoutMs: number, check: (remote: string | undefined) => OutboundError | undefined): Promise<SocketInfo> {
  return new Promise<SocketInfo>((resolve, reject) => {
    const fail = (error: unknown) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new OutboundError(`The connection was not made within ${timeoutMs} ms.`)), timeoutMs);
    const onConnect = () => {
      const refusal = check(socket.remoteAddress);
      if (refusal !== undefined) fail(refusal);
    };
    const onReady = () => {
      cleanup();
      resolve({ remoteAddress: socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`, localAddress: socket.localAddress === undefined ? undefined : `${socket.localAddress}:${socket.localPort}` });
    };
    const onError = (error: Error) => fail(privateRefusalIn(error) ?? error);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off(ready, onReady);
      socket.off("error", onError);
    };
    // The address is checked once the TCP connection is made, before any byte (or TLS handshake) goes out.
    socket.once("connect", onConnect);
    socket.once(ready, onReady);
    socket.once("error", onError);
  });
}

function hostSocket(socket: Socket, opened: Promise<SocketInfo>, startTls: ((options: { expectedServerHostname?: string }) => HostSocket) | undefined): HostSocket {
  const streams = streamsOf(socket);
  // Never unhandled: the table awaits it; a caller that does not must not crash the host.
  opened.catch(() => {});
  return {
    readable: streams.readable,
    writable: streams.writable,
    opened,
    close() {
      socket.destroy();
    },
    startTls:
      startTls === undefined
        ? undefined
        : (options) => {
            streams.detach();
            return startTls(options);
          },
  };
}

/**
 * globalOutbound's `connect` for cloudflare:sockets, over node:net (and node:tls for
 * secureTransport "on" and startTls()):
 *
 *   globalOutbound: { fetch: outbound(allowHosts([...]), fetch), connect: connectTcp({ allowHosts: ["db.example.com:5432"] }) }
 *
 * A host not on `allowHosts` is refused with an OutboundError (the sandbox's connect() fails with
 * its words); so is a private address unless `denyPrivateAddresses: false`.
 */
export function connectTcp(options: ConnectTcpOptions): SocketConnector {
  if (options === null || typeof options !== "object" || !Array.isArray(options.allowHosts)) throw new TypeError("connectTcp(): allowHosts is required (an array of host or host:port patterns).");
  const patterns = checkPatterns(options.allowHosts, "connectTcp()");
  const denyPrivate = options.denyPrivateAddresses !== false;
  const lookup = denyPrivate ? publicLookup(options.lookup) : options.lookup;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const tlsOptions = options.tls ?? {};
  const check = (remote: string | undefined, host: string): OutboundError | undefined => {
    if (!denyPrivate) return undefined;
    // The address this socket is connected to, whatever resolved it: the last word.
    return typeof remote !== "string" || isPrivateAddress(remote) ? privateRefusal(remote ?? host) : undefined;
  };

  return (address: SocketAddress, socketOptions: SocketOptions): HostSocket => {
    // The URL parser writes the host one way (IP literals in any spelling become dotted quads,
    // IPv6 is bracketed and compressed): it is what the allow-list judges and what is connected to.
    let url: URL;
    try {
      url = new URL(`https://${address.hostname.includes(":") && !address.hostname.startsWith("[") ? `[${address.hostname}]` : address.hostname}:${address.port}/`);
    } catch {
      throw new OutboundError("Specified address could not be parsed.");
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!patterns.some((pattern) => hostMatches(url, pattern))) {
      trace.getActiveSpan()?.setAttribute("islet.outbound.refused_by", "connectTcp.allowHosts");
      throw new OutboundError(`The host ${url.host} is not on this worker's allow-list for connect().`);
    }
    if (denyPrivate && (isPrivateAddress(host) || host === "localhost" || host.endsWith(".localhost"))) throw privateRefusal(host);
    const port = address.port;
    const servername = (name: string) => (isIP(name) === 0 ? name : undefined);

    const upgrade = (raw: Socket) => (tls: { expectedServerHostname?: string }): HostSocket => {
      const name = tls.expectedServerHostname ?? host;
      // `host` too: over a given socket, Node checks the certificate against servername, else host, else "localhost".
      const secure: TLSSocket = tlsConnect({ ...tlsOptions, socket: raw, host: name, servername: servername(name) });
      const opened = whenOpen(secure, "secureConnect", timeoutMs, () => undefined);
      return hostSocket(secure, opened, undefined);
    };

    if (socketOptions.secureTransport === "on") {
      const secure = tlsConnect({ ...tlsOptions, host, port, servername: servername(host), lookup: lookup as never, allowHalfOpen: true } as ConnectionOptions);
      return hostSocket(secure, whenOpen(secure, "secureConnect", timeoutMs, (remote) => check(remote, host)), undefined);
    }
    const raw = netConnect({ host, port, lookup: lookup as never, allowHalfOpen: true });
    return hostSocket(raw, whenOpen(raw, "connect", timeoutMs, (remote) => check(remote, host)), socketOptions.secureTransport === "starttls" ? upgrade(raw) : undefined);
  };
}
