// What the sandbox posts to the host: the first argument of the runtime's one callback out
// (src/runtime/bridge.ts `post`), read by the host's dispatch (src/loader/worker.ts). One list,
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
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** The synchronous host service (the runtime's `hostCall`) that runs a lazily loaded runtime chunk. */
export const CHUNK_SERVICE = "islet:chunk";
