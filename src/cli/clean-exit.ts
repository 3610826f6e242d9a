// isolated-vm 7 can abort the process after a program has ended ("Assertion `environment !=
// nullptr' failed"): while Node tears down its main V8 isolate, a last garbage collection runs the
// weak callbacks of isolated-vm's handles, and they look for an environment that no longer exists
// (seen with gdb: Heap::StartTearDown -> GlobalHandles::InvokeFirstPassWeakCallbacks ->
// ClassHandle::WeakCallback). Leaving through process.exit() skips that teardown, so the status a
// command (or a test file) ended with is the status the caller sees.

function exitWithoutTeardown(code: number | string | null | undefined): void {
  // Run the other 'exit' listeners first (they may set process.exitCode), then leave.
  for (const listener of process.listeners("exit")) if (listener !== exitWithoutTeardown) listener.call(process, code as number);
  process.exit(process.exitCode ?? code ?? 0);
}

/** Installs the exit above once; call it before anything else adds an 'exit' listener. */
export function exitCleanly(): void {
  if (!process.listeners("exit").includes(exitWithoutTeardown)) process.prependOnceListener("exit", exitWithoutTeardown);
}
