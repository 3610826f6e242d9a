// The executor: runs the model's code in a fresh islet sandbox whose globals are the tool
// namespaces, and answers `{ result, error?, logs? }` (plus timing, outcome and limits). It never
// throws for anything the code does: syntax errors, exceptions, limits and rejected approvals all
// come back in `error` as "<Name>: message". It throws only for the host's own mistakes (bad
// options, colliding namespaces).

import { DataCloneError, DEFAULT_LIMITS, WallTimeLimitError, WorkerDisposedError, WorkerLoader } from "../../index.ts";
import type { Fetcher, Limits, Outcome, StreamingTail, TailEvent, WorkerStub } from "../../index.ts";
import { validateLimits } from "../../loader/limits.ts";
import { MAX_LIMIT_MS } from "../../protocol/limits.ts";
import { formatProblems, got, nonNegativeNumber, problemsOf } from "../../protocol/schema.ts";
import { z } from "zod";
import { ApprovalRejectedError, CodeModeError } from "../errors.ts";
import { toProviders, type ProvidersOrFunctions } from "../functions.ts";
import { assignNamespaceIdentifiers, assignToolIdentifiers } from "../identifiers.ts";
import type { JsonSchema, ToolDescriptor, ToolProvider } from "../provider.ts";
import { checkToolInput } from "../input-check.ts";
import { generateApi } from "../types/api.ts";
import { typecheckProgram } from "./typecheck.ts";
import { ApprovalJournal, hashCode, RecordTooLargeError, sameArgs, type ApprovalJournalOptions, type JournalCall, type JournalRecord } from "./approval-journal.ts";
import { Approvals, type ApprovalHandler, type ApprovalRecord } from "./approvals.ts";
import { CodeSyntaxError, prepareUserCode } from "./code-form.ts";
import { formatLogs } from "./logs.ts";
import { RunClock } from "./run-clock.ts";
import { copyToolInput } from "./tool-input.ts";
import { CALL_BINDING, sandboxModules, type SandboxNamespace } from "./sandbox-modules.ts";
import { SESSION_BINDING, Sessions, type SessionStorageOptions } from "./sessions.ts";

export interface ExecuteOptions {
  /** cpuMs, memoryMb, wallMs, subRequests (each tool call is a subrequest). Default islet's: 5 s CPU, 128 MB, 30 s, 1,000. */
  limits?: Limits;
  /** Where the code's fetch() goes. Default null: blocked. */
  globalOutbound?: Fetcher | null;
  /** Decides calls to tools marked needsApproval (see PendingApproval). Without it such calls are rejected. */
  onApproval?: ApprovalHandler;
  /** The longest one execution may wait for approvals in total (not counted in wallMs). Default 5 minutes. */
  approvalTimeoutMs?: number;
  /** Compatibility flags of the sandbox, e.g. ["nodejs_compat"]. */
  compatibilityFlags?: string[];
  /** Aborting stops the execution (its result then has an AbortError). */
  signal?: AbortSignal;
  /**
   * A session id: the code gets a global \`session\` (get, put, delete, list, sql; all async)
   * whose storage outlives this execution, so a later one with the same id sees it.
   */
  session?: string;
  /** Where sessions keep their data: \`{ dir }\` for files that outlive the process; default memory. */
  sessions?: SessionStorageOptions;
  /**
   * Type-check the code against the generated API before it runs (TypeScript's checker; needs the
   * \`typescript\` package installed beside islet). Code that does not fit fails with a
   * TypeCheckError listing line, column and message, and nothing runs. Default false.
   */
  typecheck?: boolean;
  /**
   * For callers that cannot be asked while the code runs (no onApproval): a call that needs
   * approval stops the execution instead of failing, and the result's \`pendingApproval\` says
   * which call and its id. \`resume\` then runs the same code again: the calls it made before are
   * answered from the record (never sent again), the decided call runs (or throws
   * ApprovalRejectedError in the code), and the code goes on.
   */
  deferApprovals?: boolean;
  /** Continues an execution stopped for approval: its id and the decision. */
  resume?: { id: string; approve: boolean; reason?: string };
  /** Who may resume a pause this execution makes (e.g. an API key's scope): a resume must name the same owner. */
  owner?: string;
  /**
   * Each line of the code's console output as it is logged (formatted as `logs` are), while the code
   * runs: through the loader's streamingTails, so the lines come in the order they were made, after
   * the fact only past the first 800 (see WorkerCode.streamingTails).
   */
  onLog?: (line: string, level: string) => void;
  /** Where stopped executions and the approval history are kept (\`{ dir }\`: a SQLite file); default memory. */
  approvalJournal?: ApprovalJournalOptions;
}

export interface ExecutorOptions extends Omit<ExecuteOptions, "signal" | "session" | "resume" | "owner" | "onLog"> {
  /**
   * A loader to run sandboxes in; default a loader of the executor's own. Its limits cap the
   * executor's, its wallMs included: to let approvals wait, give it room for approvalTimeoutMs.
   */
  loader?: WorkerLoader;
}

export interface ExecuteResult {
  /** What the code returned, copied out of the sandbox (Dates, bytes, Maps keep their types); undefined on error. */
  result: unknown;
  /** "<Name>: message" when the code failed. */
  error?: string;
  /** console output, one string per call; warn and error lines start with [warn] / [error]. */
  logs?: string[];
  outcome: Outcome;
  timing: {
    /** CPU time of the code's run. */
    cpuMs: number;
    /** From the call to execute until the answer, waiting for approvals included. */
    wallMs: number;
    /** Time spent waiting for approvals (not counted against wallMs' limit). */
    approvalWaitMs: number;
  };
  /** The limits the code ran under. */
  limits: Required<Limits>;
  /** Every approval asked for, and how it was decided. */
  approvals?: ApprovalRecord[];
  /** With deferApprovals: the call the execution stopped before, waiting for a decision (see resume). */
  pendingApproval?: { id: string; namespace: string; tool: string; args: unknown };
}

const compatibilityDate = "2026-11-01";
const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;

interface ToolEntry {
  provider: ToolProvider;
  descriptor: ToolDescriptor;
  namespace: string;
  identifier: string;
}

/**
 * `HttpError: Not Found (status: 404)`: the error's name and message, then the data it carried out
 * of the sandbox (own enumerable properties with primitive values, as the boundary keeps them),
 * unless the message already says it (a thrown `{ code: 42 }` is `Uncaught { code: 42 }`).
 */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return `Error: ${String(error)}`;
  const text = `${error.name}: ${error.message}`;
  const data = Object.entries(error).filter(([key, value]) => key !== "name" && key !== "message" && key !== "stack" && (value === null || ["string", "number", "boolean"].includes(typeof value)));
  if (data.length === 0 || error.message.startsWith("Uncaught {")) return text;
  return `${text} (${data.map(([key, value]) => `${key}: ${typeof value === "string" ? JSON.stringify(value.slice(0, 200)) : String(value)}`).join(", ")})`;
}

/** Runs a tool call and keeps it, with its result or error, for a later pause's record. */
async function recorded(made: JournalCall[], entry: ToolEntry, args: unknown, run: () => Promise<unknown>): Promise<unknown> {
  try {
    const result = await run();
    made.push({ namespace: entry.namespace, tool: entry.identifier, args, result });
    return result;
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const data = Object.fromEntries(Object.entries(e).filter(([, value]) => value === null || ["string", "number", "boolean"].includes(typeof value)));
    made.push({ namespace: entry.namespace, tool: entry.identifier, args, error: { name: e.name, message: e.message, ...(Object.keys(data).length > 0 ? { data } : {}) } });
    throw error;
  }
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** The code's result holds a function: the boundary would make it a stub, not data. */
function containsFunction(value: unknown, seen = new Set<object>()): boolean {
  if (typeof value === "function") return true;
  if (typeof value !== "object" || value === null || seen.has(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date || value instanceof RegExp) return false;
  seen.add(value);
  if (value instanceof Map) return [...value].some(([k, v]) => containsFunction(k, seen) || containsFunction(v, seen));
  if (value instanceof Set) return [...value].some((v) => containsFunction(v, seen));
  return Object.values(value).some((v) => containsFunction(v, seen));
}

function isObjectSchema(schema: JsonSchema | undefined): boolean {
  return typeof schema === "object" && schema !== null && (schema.type === "object" || (schema.type === undefined && typeof schema.properties === "object"));
}

/** Whether this call needs the host's approval: the tool says so, or its provider does for these arguments (a throw counts as yes). */
function judgeApproval(entry: ToolEntry, args: unknown): boolean {
  if (entry.descriptor.needsApproval === true) return true;
  if (typeof entry.provider.approvalFor !== "function") return false;
  try {
    return entry.provider.approvalFor(entry.descriptor.name, args) === true;
  } catch {
    return true;
  }
}

/**
 * The code's outbound fetches and connects, each one noted as activity (it is not waiting for an
 * approval then); a globalOutbound with a connect method keeps it (cloudflare:sockets).
 */
function outboundActing(outbound: Fetcher | null, acting: (what: string) => void): Fetcher | null {
  if (outbound === null) return null;
  const fetch = (request: Request) => {
    acting("a fetch");
    return typeof outbound === "function" ? outbound(request) : outbound.fetch!(request);
  };
  const connect = typeof outbound === "object" ? outbound.connect : undefined;
  if (typeof connect !== "function") return fetch;
  const hasFetch = typeof outbound === "object" && typeof outbound.fetch === "function";
  return {
    ...(hasFetch ? { fetch } : {}),
    connect: (address, options) => {
      acting("a connect");
      return connect.call(outbound, address, options);
    },
  };
}

// The executor's options other than limits (src/protocol/limits.ts): every problem at once, in a
// CodeModeError "createExecutor: approvalTimeoutMs: must be …; onApproval: …".
const executorOptionsSchema = z.object(
  {
    globalOutbound: z
      .custom<Fetcher | null>((value) => value === null || typeof value === "function" || (typeof value === "object" && (typeof (value as { fetch?: unknown }).fetch === "function" || typeof (value as { connect?: unknown }).connect === "function")), {
        error: (issue) => `must be null, a function or an object with a fetch or connect method${got(issue)}`,
      })
      .optional(),
    onApproval: z.custom<ApprovalHandler>((value) => typeof value === "function", { error: (issue) => `must be a function${got(issue)}` }).optional(),
    approvalTimeoutMs: nonNegativeNumber().optional(),
    typecheck: z.boolean({ error: (issue) => `must be true or false${got(issue)}` }).optional(),
    deferApprovals: z.boolean({ error: (issue) => `must be true or false${got(issue)}` }).optional(),
    approvalJournal: z
      .object(
        {
          dir: z.string({ error: (issue) => `must be a directory path${got(issue)}` }).optional(),
          ttlMs: z.number({ error: (issue) => `must be a number of milliseconds${got(issue)}` }).int().positive().optional(),
          maxRecordBytes: z.number({ error: (issue) => `must be a number of bytes${got(issue)}` }).int().positive().optional(),
          maxPendingPerOwner: z.number({ error: (issue) => `must be a number of approvals${got(issue)}` }).int().positive().optional(),
          maxPending: z.number({ error: (issue) => `must be a number of approvals${got(issue)}` }).int().positive().optional(),
          maxPendingBytes: z.number({ error: (issue) => `must be a number of bytes${got(issue)}` }).int().positive().optional(),
        },
        { error: (issue) => `must be an object${got(issue)}` },
      )
      .strict()
      .optional(),
    compatibilityFlags: z.array(z.string({ error: (issue) => `must be a string${got(issue)}` }), { error: (issue) => `must be an array of strings${got(issue)}` }).optional(),
    sessions: z
      .object(
        {
          dir: z.string({ error: (issue) => `must be a directory path${got(issue)}` }).optional(),
          storageMb: z.number({ error: (issue) => `must be a number of MiB${got(issue)}` }).int().positive().optional(),
          callTimeoutMs: z.number({ error: (issue) => `must be a number of milliseconds${got(issue)}` }).int().positive().optional(),
          maxSessions: z.number({ error: (issue) => `must be a number${got(issue)}` }).int().positive().optional(),
          processMemoryMb: z.number({ error: (issue) => `must be a number of MiB${got(issue)}` }).int().positive().optional(),
        },
        { error: (issue) => `must be an object${got(issue)}` },
      )
      .strict()
      .optional(),
    loader: z
      .custom<WorkerLoader>((value) => typeof value === "object" && value !== null && typeof (value as WorkerLoader).get === "function" && typeof (value as WorkerLoader).load === "function", {
        error: (issue) => `must be a WorkerLoader${got(issue)}`,
      })
      .optional(),
  },
  { error: (issue) => `options must be an object${got(issue)}` },
);

function checkExecutorOptions(options: unknown): void {
  const parsed = executorOptionsSchema.safeParse(options);
  if (!parsed.success) throw new CodeModeError(`createExecutor: ${formatProblems(problemsOf(parsed.error))}`);
}

export class CodeExecutor {
  private readonly loader: WorkerLoader;
  private readonly ownsLoader: boolean;
  private readonly limits: Required<Limits>;

  constructor(private readonly options: ExecutorOptions = {}) {
    checkExecutorOptions(options);
    const limits = validateLimits(options.limits, "codemode");
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.ownsLoader = options.loader === undefined;
    // The loader's wall limit is a backstop: the executor's own clock enforces wallMs, paused
    // while approvals are awaited, so the loader allows that waiting on top.
    this.loader = options.loader ?? new WorkerLoader({ limits: { ...this.limits, wallMs: Math.min(this.limits.wallMs + this.approvalTimeoutMs, MAX_LIMIT_MS) } });
  }

  private readonly apiTexts = new WeakMap<object, string>();

  /** The generated declarations of these tools, made once per tool set the caller passes. */
  private apiText(key: object, providers: ToolProvider[]): string {
    let text = this.apiTexts.get(key);
    if (text === undefined) this.apiTexts.set(key, (text = generateApi(providers).text));
    return text;
  }

  private get approvalTimeoutMs(): number {
    return this.options.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
  }

  /** Runs `code` with the tools of `providersOrFns` as globals; see ExecuteResult. */
  async execute(code: string, providersOrFns: ProvidersOrFunctions | ToolProvider, options: Pick<ExecuteOptions, "signal" | "onApproval" | "session" | "typecheck" | "deferApprovals" | "resume" | "owner" | "onLog"> = {}): Promise<ExecuteResult> {
    const started = performance.now();
    if (typeof code !== "string") throw new CodeModeError("execute: code must be a string.");
    /** The first thing this run did that a resume would do again (a fetch, a session write): it then cannot pause. */
    let sideEffect: string | undefined;
    const session = options.session === undefined ? undefined : this.sessionStore().binding(options.session, () => void (sideEffect ??= "a session write"));
    const providers = toProviders(providersOrFns);
    const { namespaces, table } = this.toolTable(providers);
    const limits = this.limits;
    const base = { limits, timing: { cpuMs: 0, wallMs: 0, approvalWaitMs: 0 } };

    let userCode;
    try {
      userCode = await prepareUserCode(code);
    } catch (error) {
      if (error instanceof CodeSyntaxError) return { result: undefined, error: errorText(error), outcome: "exception", ...base, timing: { ...base.timing, wallMs: performance.now() - started } };
      throw error;
    }

    if (options.typecheck ?? this.options.typecheck ?? false) {
      const checked = await typecheckProgram(userCode.source, userCode.form === "module" ? 0 : 1, this.apiText(providersOrFns, providers), session !== undefined);
      if ("ok" in checked && !checked.ok) {
        const error = `TypeCheckError: the code does not fit the API's types; nothing ran.\n${checked.errors.map((line) => `- ${line}`).join("\n")}`;
        return { result: undefined, error, outcome: "exception", ...base, timing: { ...base.timing, wallMs: performance.now() - started } };
      }
    }

    // A resumed execution: the same code (and session) as the one stopped, its record taken out once.
    let replay: JournalRecord | undefined;
    const codeHash = hashCode(code);
    if (options.resume !== undefined) {
      const { id, approve } = options.resume;
      const waiting = typeof id === "string" ? this.journal().peek(id) : undefined;
      const refuse = (message: string) => ({ result: undefined, error: `ApprovalNotFoundError: ${message}`, outcome: "exception" as const, ...base, timing: { ...base.timing, wallMs: performance.now() - started } });
      if (waiting === undefined) return refuse(`no execution waits for approval ${JSON.stringify(id)} (it was decided already, expired, or never existed).`);
      if (waiting.owner !== options.owner) return refuse(`no execution waits for approval ${JSON.stringify(id)} (it was decided already, expired, or never existed).`);
      if (waiting.codeHash !== codeHash || waiting.session !== options.session) return refuse(`approval ${JSON.stringify(id)} belongs to other code${waiting.session !== options.session ? " or another session" : ""}: resume with the code that stopped, unchanged.`);
      replay = this.journal().decide(id, approve === true);
      if (replay === undefined) return refuse(`approval ${JSON.stringify(id)} was decided meanwhile.`);
    }
    const defer = (options.deferApprovals ?? this.options.deferApprovals ?? false) && (options.onApproval ?? this.options.onApproval) === undefined;
    /** Every call of this execution, replayed ones first: what a new pause records. */
    const made: JournalCall[] = replay !== undefined ? [...replay.calls] : [];
    let callIndex = 0;
    let pendingApproval: ExecuteResult["pendingApproval"];

    let clock: RunClock | undefined;
    const needsApproval = table.some((tools) => tools.some((t) => t.descriptor.needsApproval === true || typeof t.provider.approvalFor === "function"));
    const approvals = new Approvals(options.onApproval ?? this.options.onApproval, this.approvalTimeoutMs, () => clock);
    let event: TailEvent | undefined;
    let stopped: Error | undefined;
    let stub: WorkerStub | undefined;
    // Aborts when the execution ends, for whatever reason: every tool call it made gets this signal,
    // so none outlives it (findings20/03: an OpenAPI call's request stayed open upstream, with the
    // host's credentials, for undici's 300 s after the code returned or was cancelled).
    const ended = new AbortController();
    const end = () => ended.abort(Object.assign(new Error("The execution that made this tool call has ended."), { name: "AbortError" }));
    const stop = (error: Error) => {
      stopped ??= error;
      end();
      approvals.cancelAll();
      stub?.dispose();
    };
    /** The tool runs, with the execution's signal; not at all once the execution has ended. */
    const run = (entry: ToolEntry, args: unknown): Promise<unknown> => {
      if (ended.signal.aborted) return Promise.reject(ended.signal.reason);
      return entry.provider.call(entry.descriptor.name, args, { signal: ended.signal });
    };

    const call = async (namespaceIndex: unknown, toolIndex: unknown, input: unknown): Promise<unknown> => {
      const entry = typeof namespaceIndex === "number" && typeof toolIndex === "number" ? table[namespaceIndex]?.[toolIndex] : undefined;
      if (entry === undefined) throw new TypeError("No such tool.");
      // One copy, as plain data: what the approver is shown is exactly what the tool then runs with.
      const copied = copyToolInput(input, `${entry.namespace}.${entry.identifier}`);
      const args = copied === undefined && isObjectSchema(entry.descriptor.inputSchema) ? {} : copied;
      // Checked against the tool's schema before an approver sees it or it leaves for the upstream.
      const label = `${entry.namespace}.${entry.identifier}`;
      checkToolInput(entry.provider, entry.descriptor, label, args);
      const index = callIndex++;
      if (replay !== undefined && index <= replay.calls.length) {
        const past = index < replay.calls.length ? replay.calls[index] : replay.pending;
        if (past.namespace !== entry.namespace || past.tool !== entry.identifier || !sameArgs(past.args, args)) {
          // The code took another path than the run that stopped: nothing of it is sent.
          const diverged = new ApprovalRejectedError(`On resuming, the code called ${label}(${truncate(JSON.stringify(args) ?? "", 200)}) where it had called ${past.namespace}.${past.tool}; it was stopped and nothing was sent. Run it again from the start.`);
          diverged.name = "ReplayDivergedError";
          stop(diverged);
          throw diverged;
        }
        if (index < replay.calls.length) {
          const recorded = replay.calls[index];
          if (recorded.error !== undefined) throw Object.assign(Object.assign(new Error(recorded.error.message), { name: recorded.error.name }), recorded.error.data ?? {});
          return recorded.result;
        }
        // The decided call: it runs now, or is rejected in the code.
        if (options.resume?.approve !== true) {
          const rejected = new ApprovalRejectedError(`${label} was rejected${options.resume?.reason ? `: ${options.resume.reason}` : "."}`);
          made.push({ namespace: entry.namespace, tool: entry.identifier, args, error: { name: rejected.name, message: rejected.message } });
          throw rejected;
        }
        clock?.activity();
        return recorded(made, entry, args, () => run(entry, args));
      }
      if (judgeApproval(entry, args)) {
        if (defer) {
          // A resume answers tool calls from the record but runs everything else again: code that
          // already fetched or wrote its session would do it twice (findings14/02).
          if (sideEffect !== undefined) {
            throw new ApprovalRejectedError(`${label} needs approval, and this execution cannot wait for it: it made ${sideEffect} before the call, which resuming would repeat. Make calls that need approval before any fetch or session write, or run with an approver (onApproval).`);
          }
          try {
            const id = this.journal().pause({ codeHash, ...(options.session !== undefined ? { session: options.session } : {}), ...(options.owner !== undefined ? { owner: options.owner } : {}), calls: made, pending: { namespace: entry.namespace, tool: entry.identifier, args } });
            pendingApproval = { id, namespace: entry.namespace, tool: entry.identifier, args };
          } catch (error) {
            if (!(error instanceof RecordTooLargeError)) throw error;
            throw new ApprovalRejectedError(`${label} needs approval, and the execution cannot wait for it: ${error.message}.`);
          }
          const paused = new Error(`The execution stopped before ${label}, which needs approval (id ${pendingApproval.id}).`);
          paused.name = "ApprovalPendingError";
          stop(paused);
          throw paused;
        }
        await approvals.request({ namespace: entry.namespace, tool: entry.identifier, originalName: entry.descriptor.name, args });
      } else {
        // Calling a tool is acting, not waiting: a pending approval no longer stops the clock.
        clock?.activity();
      }
      return recorded(made, entry, args, () => run(entry, args));
    };

    // The code's console output as it is made, to onLog (its last lines are delivered before execute answers).
    let streamed: Promise<void> | undefined;
    const onLog = options.onLog;
    const liveLogs: StreamingTail | undefined =
      onLog === undefined
        ? undefined
        : (onset) => {
            if (onset.event.method !== "run" || streamed !== undefined) return undefined;
            let ended!: () => void;
            streamed = new Promise<void>((resolve) => (ended = resolve));
            return (event) => {
              const body = event.event;
              try {
                if (body.type === "log") onLog(formatLogs([{ level: body.level, message: body.message, timestamp: event.timestamp.getTime() }])[0], body.level);
                else if (body.type === "streamDiagnostic") onLog(`[warn] islet: ${body.diagnostic.count} log lines were not streamed (the queue was full); the result's logs have them`, "warn");
              } finally {
                if (body.type === "outcome") ended();
              }
            };
          };
    const signal = options.signal;
    const onAbort = () => stop(Object.assign(new Error("The execution was aborted."), { name: "AbortError" }));
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (stopped === undefined) {
        stub = this.loader.load({
          compatibilityDate,
          ...(this.options.compatibilityFlags !== undefined ? { compatibilityFlags: this.options.compatibilityFlags } : {}),
          mainModule: "main.js",
          modules: sandboxModules(userCode, namespaces, session !== undefined),
          env: { [CALL_BINDING]: call, ...(session !== undefined ? { [SESSION_BINDING]: session.target } : {}) },
          globalOutbound: outboundActing(this.options.globalOutbound ?? null, (what) => {
            sideEffect ??= what;
            clock?.activity();
          }),
          // The engine's wall limit is the backstop; with approvals possible it allows their waiting on top.
          limits: { ...limits, wallMs: limits.wallMs + (needsApproval ? this.approvalTimeoutMs : 0) },
          tails: [(events: TailEvent[]) => void (event = events.find((e) => e.method === "run") ?? event)],
          ...(liveLogs !== undefined ? { streamingTails: [liveLogs] } : {}),
        });
        clock = new RunClock(limits.wallMs, () => stop(new WallTimeLimitError(`The code exceeded its wall-clock time limit of ${limits.wallMs} ms${needsApproval ? " (time spent waiting for approvals not counted)" : ""}; its sandbox was terminated.`)));
      }
      let result: unknown;
      let error: string | undefined;
      let outcome: Outcome = "ok";
      try {
        if (stopped !== undefined) throw stopped;
        result = await stub!.getEntrypoint().run();
        if (containsFunction(result)) throw new DataCloneError("The code's result must be data; it contains a function.");
      } catch (caught) {
        const reason = stopped !== undefined && (caught instanceof WorkerDisposedError || caught === stopped) ? stopped : caught;
        result = undefined;
        error = errorText(reason);
        outcome = reason instanceof WallTimeLimitError ? "exceededWall" : stopped !== undefined ? "canceled" : (event?.outcome ?? "exception");
        if (outcome === "ok") outcome = "exception";
      }
      clock?.stop();
      // The code is done: calls it left pending end now, not after its last log lines.
      end();
      if (streamed !== undefined) {
        // The lines logged last are on their way to onLog: they go before the answer (bounded, should a line never come).
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([streamed, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
        clearTimeout(timer);
      }
      // Stopped for approval: not a failure, a question (see pendingApproval).
      if (pendingApproval !== undefined) {
        result = undefined;
        error = undefined;
        outcome = "canceled";
      }
      const logs = event !== undefined ? formatLogs(event.logs) : [];
      return {
        ...(pendingApproval !== undefined ? { pendingApproval } : {}),
        result,
        ...(error !== undefined ? { error } : {}),
        ...(logs.length > 0 ? { logs } : {}),
        outcome,
        timing: { cpuMs: event?.cpuTime ?? 0, wallMs: performance.now() - started, approvalWaitMs: clock?.waitingMs ?? 0 },
        limits,
        ...(approvals.records.length > 0 ? { approvals: approvals.records } : {}),
      };
    } finally {
      signal?.removeEventListener("abort", onAbort);
      end();
      clock?.stop();
      approvals.cancelAll();
      stub?.dispose();
      session?.end();
    }
  }

  private toolTable(providers: ToolProvider[]): { namespaces: SandboxNamespace[]; table: ToolEntry[][] } {
    const identifiers = assignNamespaceIdentifiers(providers.map((p) => p.namespace));
    const namespaces: SandboxNamespace[] = [];
    const table: ToolEntry[][] = [];
    providers.forEach((provider, i) => {
      const { identifiers: tools } = assignToolIdentifiers(provider.namespace, provider.tools.map((t) => t.name));
      namespaces.push({ identifier: identifiers[i], tools });
      table.push(provider.tools.map((descriptor, t) => ({ provider, descriptor, namespace: identifiers[i], identifier: tools[t] })));
    });
    return { namespaces, table };
  }

  private sessions: Sessions | undefined;

  private journalValue: ApprovalJournal | undefined;

  /** Executions stopped for approval and the approval history (memory, or approvalJournal.dir). */
  journal(): ApprovalJournal {
    this.journalValue ??= new ApprovalJournal(this.options.approvalJournal);
    return this.journalValue;
  }

  private sessionStore(): Sessions {
    this.sessions ??= new Sessions(this.options.sessions);
    return this.sessions;
  }

  /** Closes the executor's own loader (a loader passed in stays open) and its sessions' storage. */
  async close(): Promise<void> {
    this.journalValue?.close();
    this.sessions?.close();
    this.sessions = undefined;
    if (this.ownsLoader) await this.loader.close();
  }
}

export function createExecutor(options: ExecutorOptions = {}): CodeExecutor {
  return new CodeExecutor(options);
}

/**
 * Runs `code` once in a fresh sandbox with `providersOrFns` as its globals. `providersOrFns` is an
 * array of ToolProviders (fromFunctions, fromOpenApi, MCP sources), or a plain object: namespaces of
 * functions (`{ math: { add } }` → `math.add(input)`) and/or functions (`{ add }` → `codemode.add(input)`).
 */
export async function execute(code: string, providersOrFns: ProvidersOrFunctions | ToolProvider, options: ExecuteOptions = {}): Promise<ExecuteResult> {
  const { signal, session, resume, owner, onLog, ...executorOptions } = options;
  const executor = new CodeExecutor(executorOptions);
  try {
    return await executor.execute(code, providersOrFns, { ...(signal !== undefined ? { signal } : {}), ...(session !== undefined ? { session } : {}), ...(resume !== undefined ? { resume } : {}), ...(owner !== undefined ? { owner } : {}), ...(onLog !== undefined ? { onLog } : {}) });
  } finally {
    await executor.close();
  }
}
