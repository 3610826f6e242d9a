export { WorkerLoader } from "./loader/worker-loader.ts";
export type { WorkerLoaderOptions, WorkerLoaderStats, WorkerStub, GetCode } from "./loader/worker-loader.ts";
export type { Entrypoint, EntrypointOptions, RpcMethods } from "./loader/entrypoint.ts";
export type { InboundSocket } from "./loader/inbound-socket.ts";
export type {
  WorkerCode,
  ModuleContent,
  Fetcher,
  FetchRecord,
  TailEvent,
  TailReceiver,
  StreamingTail,
  TailStreamEvent,
  TailStreamEventBody,
  TailStreamHandler,
  TailStreamOnset,
  TailStreamLog,
  TailStreamException,
  TailStreamOutcome,
  TailStreamDiagnostic,
} from "./loader/code/types.ts";
export type { Limits } from "./loader/limits.ts";
export { DEFAULT_LIMITS } from "./loader/limits.ts";
export { RpcTarget } from "./rpc/rpc-target.ts";
export { DurableObjectNamespace } from "./storage/namespace.ts";
export type { DurableObjectNamespaceOptions, DurableObjectStub } from "./storage/namespace.ts";
export { DurableObjectId } from "./storage/object-id.ts";
export type { DurableObjectState, DurableObjectClass } from "./storage/object-host.ts";
export { DurableObjectStorage, SyncKvStorage, DurableObjectTransaction } from "./storage/storage.ts";
export type { ListOptions } from "./storage/storage.ts";
export { SqlStorage, SqlStorageCursor } from "./storage/sql.ts";
export { StorageMemoryError, StorageTimeoutError } from "./storage/storage-process.ts";
export type { SqlStorageValue } from "./storage/sql.ts";
export type { Facets, FacetStartupOptions } from "./storage/facets.ts";
/** What `WorkerStub.getDurableObjectClass()` returns (Cloudflare's DurableObjectClass): a class to run as a facet. */
export type { DurableObjectClass as WorkerDurableObjectClass, DurableObjectClassOptions } from "./loader/worker-loader.ts";
export {
  IsletError,
  LimitError,
  CpuLimitError,
  MemoryLimitError,
  WallTimeLimitError,
  SubrequestLimitError,
  WorkerCodeError,
  InvalidLimitsError,
  StorageLimitError,
  WorkerDisposedError,
  SandboxProcessError,
  SandboxThreadError,
  StubDisposedError,
  DataCloneError,
  OutboundError,
  type Outcome,
} from "./errors.ts";
