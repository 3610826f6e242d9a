// Browsers are the way in to a keyless server on 127.0.0.1: any page its user visits may send
// requests there (a form post, fetch in no-cors mode, a WebSocket, which CORS never blocks), and
// they arrive carrying the page's Origin. A server without keys answers only its own origin.
// Clients that are not browsers (curl, SDKs, islet/client) send no Origin and are not affected.
//
// Shared by `islet serve` (src/server/app.ts) and `islet mcp --http` (src/cli/mcp.ts).

import { isLoopback } from "./config.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A Host header's host[:port] in URL form (lower case, default port dropped), or undefined if it is not one. */
function normalHost(host: string): string | undefined {
  try {
    const url = new URL(`http://${host}`);
    return url.username === "" && url.password === "" && url.pathname === "/" && url.search === "" && url.hash === "" ? url.host : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a request must be refused as coming from another origin's page, or undefined when it may
 * go on. Refused: a WebSocket upgrade or a state-changing request (anything but GET/HEAD/OPTIONS)
 * whose Origin is not the server's own (`null` included), or whose Sec-Fetch-Site says a browser
 * sent it from another origin. "The server's own" is judged against the request's Host header;
 * pair this with a Host check (isLoopbackHostHeader) so a rebound name cannot pose as the server.
 */
export function crossOriginRefusal(method: string, header: (name: string) => string | undefined): string | undefined {
  const isUpgrade = header("upgrade")?.toLowerCase() === "websocket";
  if (!isUpgrade && SAFE_METHODS.has(method.toUpperCase())) return undefined;
  const origin = header("origin");
  const site = header("sec-fetch-site")?.toLowerCase();
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return `This server has no API keys, so it refuses requests a browser sends from another origin (Sec-Fetch-Site: ${site}); configure API keys to serve other origins.`;
  }
  if (origin === undefined) return undefined;
  const host = header("host");
  const own = host === undefined ? undefined : normalHost(host);
  let theirs: string | undefined;
  try {
    const url = new URL(origin);
    if (url.protocol === "http:" || url.protocol === "https:") theirs = url.host;
  } catch {
    theirs = undefined;
  }
  if (own === undefined || theirs === undefined || theirs !== own) {
    return `This server has no API keys, so it refuses requests from pages of another origin (Origin: ${origin.slice(0, 100)}); configure API keys to serve other origins.`;
  }
  return undefined;
}

/** A Host header naming a loopback host (127.x, localhost, *.localhost, [::1]), with any port. */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined) return false;
  const host = header.startsWith("[") ? header.slice(1, header.indexOf("]")) : header.replace(/:\d+$/, "");
  return isLoopback(host.toLowerCase()) || host.toLowerCase().endsWith(".localhost");
}
