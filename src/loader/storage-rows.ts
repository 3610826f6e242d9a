// The rows a facet's storage call read and wrote, and the storage process's CPU it cost, on their way from the host's FacetStorage
// (src/storage/facets.ts), which has them from the storage process, to the worker that runs the
// facet (op-dispatch.ts), which charges the rows to the invocation that made the call and the CPU to
// the sandbox's cpuMs, and hands the sandbox the answer alone. In process isolation the answer crosses from the host to the shard
// that runs the facet's worker as any capability's answer does, so the counts travel inside it.

/** Marks an answer of FacetStorage's: [STORAGE_ROWS_TAG, value, rowsRead, rowsWritten, cpuNs]. */
const STORAGE_ROWS_TAG = "\u0000islet:storage-rows";

export type StorageAnswer = [typeof STORAGE_ROWS_TAG, unknown, number, number, number];

/** A storage answer carrying the rows the call read and wrote and the CPU it cost the storage process. */
export function storageAnswer(value: unknown, rowsRead: number, rowsWritten: number, cpuNs: number): StorageAnswer {
  return [STORAGE_ROWS_TAG, value, rowsRead, rowsWritten, cpuNs];
}

/**
 * The own property of an error of FacetStorage's that carries what the failed operation cost the
 * storage process, in nanoseconds: a string key, so that it crosses to a shard with the error's
 * other data; taken off before the sandbox sees the error.
 */
export const STORAGE_CPU_NS = "isletStorageCpuNs";

/** The CPU a failed storage operation cost (its error's STORAGE_CPU_NS), removed from the error. */
export function takeStorageErrorCpu(error: unknown): number {
  if (error === null || typeof error !== "object" || !Object.hasOwn(error, STORAGE_CPU_NS)) return 0;
  const ns = (error as Record<string, unknown>)[STORAGE_CPU_NS];
  delete (error as Record<string, unknown>)[STORAGE_CPU_NS];
  return count(ns);
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/**
 * The value and counts of a storage answer; anything else (an answer of a method that touches no
 * storage) as it is, with no rows.
 */
export function takeStorageAnswer(answer: unknown): { value: unknown; rowsRead: number; rowsWritten: number; cpuNs: number } {
  if (Array.isArray(answer) && answer.length === 5 && answer[0] === STORAGE_ROWS_TAG) return { value: answer[1], rowsRead: count(answer[2]), rowsWritten: count(answer[3]), cpuNs: count(answer[4]) };
  return { value: answer, rowsRead: 0, rowsWritten: 0, cpuNs: 0 };
}
