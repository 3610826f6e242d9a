// What a differential test compares: the value returned, or the class of the error thrown.

export type Outcome = { value: unknown } | { error: string };

export function outcome(run: () => unknown): Outcome {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}
