// What the sandbox posts to the host: the first argument of the runtime's one callback out
// (src/runtime/bridge.ts `post`), read by the host's dispatch (src/loader/op-dispatch.ts). One list,
// used by both sides.

export const Op = {
  Call: 1, // (callId, capId, method, encodedArgs)
  Log: 2, // (level, parts, cut): cut when the invocation's log byte budget ran out
  TimerSet: 3, // (timerId, delayMs)
  TimerClear: 4, // (timerId)
  Release: 5, // (capId)
  Fetch: 6, // (callId, requestRecord, abortable): abortable when the fetch has a signal
  Service: 7, // (callId, service, args): an asynchronous host service (engine/host-services.ts)
  FetchAbort: 8, // (callId): the sandbox aborted the fetch with that call id
  BodyRead: 9, // (callId, bodyId): the next chunk of a response body the host streams in
  BodyCancel: 10, // (bodyId)
  Connect: 11, // (callId, addressRecord): a cloudflare:sockets connect() through globalOutbound's connect
  SocketWrite: 12, // (callId, socketId, bytes): written once the host's socket took them
  SocketEnd: 13, // (callId, socketId): the writable side closed (a TCP FIN)
  SocketClose: 14, // (socketId): close() or the sandbox let the socket go
  SocketStartTls: 15, // (callId, socketId, expectedServerHostname): upgrades a "starttls" socket
  StubConnect: 16, // (callId, capId, addressRecord, options): connect() on a service binding the sandbox holds (Fetcher.connect)
  StubFetch: 17, // (callId, capId, requestRecord, abortable): fetch() on a service binding the sandbox holds (Fetcher.fetch); FetchAbort aborts it
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** The synchronous host service (the runtime's `hostCall`) that runs a lazily loaded runtime chunk. */
export const CHUNK_SERVICE = "islet:chunk";

/** Cloudflare's words for a connect() with no way out, then how to open TCP in islet (the sandbox throws it; the host refuses with it). */
export const CONNECT_BLOCKED =
  "This worker is not permitted to access the internet via global functions like connect(). It must use capabilities (such as bindings in env) to talk to the outside world. " +
  'To allow TCP in islet: give the loader or the WorkerCode a globalOutbound with a connect method (islet/outbound: { connect: connectTcp({ allowHosts: ["db.example.com:5432"] }) }).';
