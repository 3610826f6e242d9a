// denyPrivateAddresses(): keeps a sandbox off the host's own network. The check is made on the
// address a connection actually goes to, inside the connection itself (an undici dispatcher whose
// connector resolves the name, drops private answers, and checks the socket's remote address once
// connected), never by a separate DNS lookup beforehand that the connection would then repeat: a
// name that resolves to a public address for the check and to 127.0.0.1 for the connection (DNS
// rebinding) gets nowhere.

import { trace } from "@opentelemetry/api";
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { BlockList, isIP, type Socket } from "node:net";
import type { Agent } from "undici";
import { OutboundError } from "../errors.ts";
import type { OutboundPolicy } from "./index.ts";

const privateV4 = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the local host
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata (169.254.169.254)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const) {
  privateV4.addSubnet(network, prefix, "ipv4");
}

const privateV6 = new BlockList();
for (const [network, prefix] of [
  ["::", 96], // unspecified, loopback, IPv4-compatible (deprecated): ::127.0.0.1
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard-only
  ["2001::", 32], // Teredo (embeds an obfuscated IPv4 address)
  ["2001:db8::", 32], // documentation
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
] as const) {
  privateV6.addSubnet(network, prefix, "ipv6");
}

/** The eight 16-bit groups of an IPv6 address, or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone !== -1) text = text.slice(0, zone);
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const bytes = v4[2].split(".").map(Number);
    text = `${v4[1]}${((bytes[0] << 8) | bytes[1]).toString(16)}:${((bytes[2] << 8) | bytes[3]).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 2 ? (halves[1] === "" ? [] : halves[1].split(":")) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return null;
  const groups = [...head, ...Array<string>(fill).fill("0"), ...tail].map((group) => Number.parseInt(group, 16));
  return groups.length === 8 && groups.every((group) => group >= 0 && group <= 0xffff) ? groups : null;
}

function v4From(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * True for an IP address a multi-tenant host's sandboxes must not reach: loopback, private
 * (RFC 1918), link-local and metadata, CGNAT, unspecified (0.0.0.0, ::), multicast, reserved and
 * documentation ranges, unique-local and site-local IPv6, and IPv6 forms that carry one of those
 * IPv4 addresses (IPv4-mapped ::ffff:127.0.0.1, IPv4-translated, NAT64 64:ff9b::/96, 6to4
 * 2002::/16). False for anything that is not an IP address.
 */
export function isPrivateAddress(address: string): boolean {
  let text = address;
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const family = isIP(text);
  if (family === 4) return privateV4.check(text, "ipv4");
  if (family !== 6) return false;
  const groups = ipv6Groups(text);
  if (groups === null) return true; // what Node calls IPv6 but this cannot read: refuse
  const [a, b, c, d, e, f, g, h] = groups as [number, number, number, number, number, number, number, number];
  const zeroFirst64 = a === 0 && b === 0 && c === 0 && d === 0;
  if (zeroFirst64 && e === 0 && f === 0xffff) return privateV4.check(v4From(g, h), "ipv4"); // ::ffff:a.b.c.d
  if (zeroFirst64 && e === 0xffff && f === 0) return privateV4.check(v4From(g, h), "ipv4"); // ::ffff:0:a.b.c.d
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return privateV4.check(v4From(g, h), "ipv4"); // NAT64
  if (a === 0x2002) return privateV4.check(v4From(b, c), "ipv4"); // 6to4
  return privateV6.check(groups.map((group) => group.toString(16)).join(":"), "ipv6");
}

/** Why a connection was refused; fetch wraps it as the cause of its TypeError. */
class PrivateAddressRefusal extends Error {
  constructor(readonly host: string) {
    super(`The host ${host} is a private or loopback address, which workers on this server may not reach.`);
    this.name = "PrivateAddressRefusal";
  }

  asOutbound(): OutboundError {
    // The policy that refused, on the request's span (no address: the host name is in the span already).
    trace.getActiveSpan()?.setAttribute("islet.outbound.refused_by", "denyPrivateAddresses");
    return new OutboundError(this.message);
  }
}

function refusalIn(error: unknown): PrivateAddressRefusal | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    if (cause instanceof PrivateAddressRefusal) return cause;
    if (cause instanceof AggregateError) for (const inner of cause.errors) if (inner instanceof PrivateAddressRefusal) return inner;
  }
  return undefined;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type LookupFunction = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

export interface PrivateAddressOptions {
  /** Name resolution for connections (default: node:dns lookup, as Node's fetch uses). */
  lookup?: LookupFunction;
}

/** An OutboundPolicy whose connection pool (an undici Agent, made on first use) can be closed. */
export type PrivateAddressPolicy = OutboundPolicy & { close(): Promise<void> };

/**
 * A name lookup for a connection that drops private answers (isPrivateAddress); none left is a
 * PrivateAddressRefusal (see privateRefusalIn). node:net and undici both take it as `lookup`.
 */
export function publicLookup(lookup?: LookupFunction): LookupFunction {
  const resolve: LookupFunction = lookup ?? (dnsLookup as unknown as LookupFunction);
  return (hostname: string, lookupOptions: LookupOptions, callback: LookupCallback) => {
    resolve(hostname, { ...lookupOptions, all: true }, (error, answers) => {
      if (error) return callback(error, lookupOptions.all ? [] : "");
      const list = (Array.isArray(answers) ? answers : [{ address: answers, family: isIP(answers) }]) as LookupAddress[];
      const allowed = list.filter((answer) => isIP(answer.address) !== 0 && !isPrivateAddress(answer.address));
      if (allowed.length === 0) return callback(new PrivateAddressRefusal(hostname), lookupOptions.all ? [] : "");
      if (lookupOptions.all) callback(null, allowed);
      else callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/** The refusal of a private address inside a connection error, as an OutboundError; undefined if there is none. */
export function privateRefusalIn(error: unknown): OutboundError | undefined {
  return refusalIn(error)?.asOutbound();
}

/** The refusal of a private address `host`, as the sandbox sees it. */
export function privateRefusal(host: string): OutboundError {
  return new PrivateAddressRefusal(host).asOutbound();
}

/**
 * Refuses connections to private, loopback, link-local and metadata addresses (isPrivateAddress).
 * The policy puts an undici dispatcher on the request; the check happens when Node's fetch
 * connects: a name is resolved once, by the connection, its private answers are dropped (none
 * left: refused), and the socket's remote address is checked again once connected. IP literals in
 * any spelling (2130706433, 0177.0.0.1, 0x7f.1, [::ffff:127.0.0.1]) reach the policy already
 * normalised by the URL parser and are refused before any connection.
 *
 * Place it last before `fetch`: a policy after it must derive its Request from the one it got
 * (`new Request(request, init)`), or the dispatcher is lost. limitBodies and injectCredentials
 * (header rules) do; injectCredentials with a query rule does not. The final handler must be
 * Node's global fetch (or another that honours a Request's dispatcher).
 */
export function denyPrivateAddresses(options: PrivateAddressOptions = {}): PrivateAddressPolicy {
  const guardedLookup = publicLookup(options.lookup);
  // undici costs a few hundred milliseconds to import: only a guard that is used pays for it.
  let dispatcher: Promise<Agent> | undefined;
  const makeDispatcher = async (): Promise<Agent> => {
    const { Agent, buildConnector } = await import("undici");
    const connector = buildConnector({ lookup: guardedLookup } as Parameters<typeof import("undici").buildConnector>[0]);
    return new Agent({
      connect(connectOptions, callback) {
        const host = connectOptions.hostname.replace(/^\[|\]$/g, "");
        if (isPrivateAddress(host)) return callback(new PrivateAddressRefusal(host), null);
        connector(connectOptions, (error, socket) => {
          if (error !== null) return callback(error, null);
          // The address this socket is connected to, whatever resolved it: the last word.
          const remote = (socket as Socket).remoteAddress;
          if (typeof remote !== "string" || isPrivateAddress(remote)) {
            socket.destroy();
            return callback(new PrivateAddressRefusal(remote ?? host), null);
          }
          callback(null, socket);
        });
      },
    });
  };
  const policy = async (request: Request, next: (request: Request) => Promise<Response>) => {
    const host = new URL(request.url).hostname;
    const bare = host.replace(/^\[|\]$/g, "");
    if (isPrivateAddress(bare) || bare === "localhost" || bare.endsWith(".localhost") || bare === "localhost.") throw new PrivateAddressRefusal(host).asOutbound();
    try {
      return await next(new Request(request, { dispatcher: await (dispatcher ??= makeDispatcher()) } as RequestInit));
    } catch (error) {
      const refusal = refusalIn(error);
      if (refusal !== undefined) throw refusal.asOutbound();
      throw error;
    }
  };
  return Object.assign(policy, { close: async () => (dispatcher === undefined ? undefined : (await dispatcher).close()) });
}
