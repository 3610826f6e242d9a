// Tool calls that need approval pause until the host decides. The host's onApproval receives a
// PendingApproval: it may answer at once (return true/false, or a promise of it) or keep the object
// and call approve()/reject() later, e.g. from a UI. While any call waits, the execution's wall
// clock stands still; all the waiting of one execution is bounded by approvalTimeoutMs.

import { ApprovalRejectedError } from "../errors.ts";
import type { RunClock } from "./run-clock.ts";

export interface ApprovalRequest {
  /** Unique within the execution, in call order. */
  id: number;
  namespace: string;
  /** The method name in the sandbox. */
  tool: string;
  /** The tool's name at its source. */
  originalName: string;
  args: unknown;
}

export interface PendingApproval extends ApprovalRequest {
  approve(): void;
  reject(reason?: string): void;
  /** true once approved, rejected or timed out. */
  readonly settled: boolean;
}

export type ApprovalHandler = (approval: PendingApproval) => boolean | void | Promise<boolean | void>;

export interface ApprovalRecord {
  id: number;
  namespace: string;
  tool: string;
  approved: boolean;
  /** Why it was not approved: the host's reason, "timeout" or "no approver". */
  reason?: string;
  waitedMs: number;
}

export class Approvals {
  private nextId = 1;
  private readonly pending = new Set<() => void>();
  readonly records: ApprovalRecord[] = [];

  constructor(
    private readonly handler: ApprovalHandler | undefined,
    private readonly timeoutMs: number,
    private readonly clock: () => RunClock | undefined,
  ) {}

  /** Resolves when the call is approved; rejects with ApprovalRejectedError otherwise. */
  request(call: Omit<ApprovalRequest, "id">): Promise<void> {
    const id = this.nextId++;
    const label = `${call.namespace}.${call.tool}`;
    if (this.handler === undefined) {
      this.records.push({ id, namespace: call.namespace, tool: call.tool, approved: false, reason: "no approver", waitedMs: 0 });
      return Promise.reject(new ApprovalRejectedError(`${label} needs the host's approval, and this executor has no onApproval handler.`));
    }
    const clock = this.clock();
    const remaining = this.timeoutMs - (clock?.waitingMs ?? 0);
    const started = performance.now();
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (approved: boolean, reason?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(cancel);
        clock?.resume();
        this.records.push({ id, namespace: call.namespace, tool: call.tool, approved, ...(reason !== undefined ? { reason } : {}), waitedMs: performance.now() - started });
        if (approved) resolve();
        else reject(new ApprovalRejectedError(reason === "timeout" ? `${label} was not approved in time.` : `${label} was rejected${reason ? `: ${reason}` : "."}`));
      };
      const cancel = () => settle(false, "the execution ended");
      this.pending.add(cancel);
      clock?.pause();
      const timer = setTimeout(() => settle(false, "timeout"), Math.max(0, remaining));
      const approval: PendingApproval = {
        id,
        ...call,
        approve: () => settle(true),
        reject: (reason?: string) => settle(false, reason === undefined ? undefined : String(reason)),
        get settled() {
          return settled;
        },
      };
      let answer: ReturnType<ApprovalHandler>;
      try {
        answer = this.handler!(approval);
      } catch {
        return settle(false, "the approval handler failed");
      }
      Promise.resolve(answer).then(
        (decision) => {
          if (decision === true) settle(true);
          else if (decision === false) settle(false);
        },
        () => settle(false, "the approval handler failed"),
      );
    });
  }

  /** Rejects whatever still waits (the execution ended or was stopped). */
  cancelAll(): void {
    for (const cancel of [...this.pending]) cancel();
  }
}
