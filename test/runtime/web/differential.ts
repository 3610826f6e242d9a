// What a differential test compares: the value returned, or the class of the error thrown.

export type Outcome = { value: unknown } | { error: string };

export function outcome(run: () => unknown): Outcome {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

/** The same, also keeping the error's `name` (for DOMExceptions, whose class says little). */
export function namedOutcome(run: () => unknown): { value: unknown } | { error: string; name: string } {
  try {
    return { value: run() };
  } catch (error) {
    const { name, constructor } = error as Error;
    return { error: constructor.name, name };
  }
}
