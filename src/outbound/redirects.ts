// Redirects for a host caller of outbound(): each hop goes through the whole policy chain again,
// and the chain's own request always has redirect: "manual", so Node's fetch never follows a 3xx
// past the policies. (A sandbox's fetch already sends "manual" and follows hops itself.)

const MAX_REDIRECTS = 20;
const BODY_HEADERS = ["content-encoding", "content-language", "content-location", "content-type", "content-length"];
const CROSS_ORIGIN_HEADERS = ["authorization", "cookie", "proxy-authorization"];

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Follows `request`'s redirects per the Fetch standard ("follow" or "error"), each hop through `send`. */
export async function followRedirects(request: Request, send: (request: Request) => Promise<Response>): Promise<Response> {
  const mode = request.redirect;
  const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  let method = request.method;
  let headers = new Headers(request.headers);
  let url = request.url;
  const urls: string[] = [];
  for (;;) {
    urls.push(url);
    const hasBody = body !== null && method !== "GET" && method !== "HEAD";
    const response = await send(new Request(url, { method, headers, body: hasBody ? body : null, redirect: "manual", signal: request.signal }));
    const location = isRedirect(response.status) ? response.headers.get("location") : null;
    if (location === null) return urls.length === 1 ? response : withUrl(response, url);
    await response.body?.cancel().catch(() => {});
    if (mode === "error") throw new TypeError('fetch failed: the response is a redirect and the request\'s redirect mode is "error".');
    if (urls.length > MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects.`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new TypeError("fetch failed: the redirect's Location is not a valid URL.");
    }
    if (next.protocol !== "http:" && next.protocol !== "https:") throw new TypeError("fetch failed: a redirect to a URL that is not HTTP(S).");
    // 303 (except HEAD), and 301/302 after a POST, become a GET without a body (Fetch §4.4 step 12).
    const toGet = response.status === 303 ? method !== "HEAD" : (response.status === 301 || response.status === 302) && method === "POST";
    headers = new Headers(headers);
    if (toGet) {
      method = "GET";
      for (const name of BODY_HEADERS) headers.delete(name);
    }
    // The caller's own credentials do not follow a redirect to another origin (Fetch §4.4 step 13).
    if (next.origin !== new URL(url).origin) for (const name of CROSS_ORIGIN_HEADERS) headers.delete(name);
    url = next.href;
  }
}

/** A Response's url and redirected are read-only getters; the followed one says where it ended. */
function withUrl(response: Response, url: string): Response {
  Object.defineProperty(response, "url", { value: url.replace(/#.*$/s, ""), enumerable: true });
  Object.defineProperty(response, "redirected", { value: true, enumerable: true });
  return response;
}
