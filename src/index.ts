export { WorkerLoader } from "./loader/worker-loader.ts";
export type { WorkerLoaderOptions, WorkerLoaderStats, WorkerStub, GetCode } from "./loader/worker-loader.ts";
export type { Entrypoint, EntrypointOptions, RpcMethods } from "./loader/entrypoint.ts";
export type { WorkerCode, ModuleContent, Fetcher, FetchRecord, TailEvent, TailReceiver } from "./loader/code/types.ts";
export type { Limits } from "./loader/limits.ts";
export { DEFAULT_LIMITS } from "./loader/limits.ts";
export { RpcTarget } from "./rpc/rpc-target.ts";
export {
  IsletError,
  LimitError,
  CpuLimitError,
  MemoryLimitError,
  WallTimeLimitError,
  SubrequestLimitError,
  WorkerCodeError,
  InvalidLimitsError,
  WorkerDisposedError,
  SandboxProcessError,
  SandboxThreadError,
  StubDisposedError,
  DataCloneError,
  OutboundError,
  type Outcome,
} from "./errors.ts";
