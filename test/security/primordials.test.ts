// The runtime calls only intrinsics it captured before any user code ran (src/runtime/primordials.ts):
// a sandbox that replaces globals and prototype methods first cannot make the runtime hand it the
// real clock, a host object or a raw value, nor escape a limit.

import assert from "node:assert/strict";
import { securitySuite } from "./harness.ts";

const { attack, call } = securitySuite();

attack("replacing Reflect.construct does not hand out the real Date: the clock stays frozen", async () => {
  const result = await call(
    `export default { run() {
      const seen = [];
      const construct = Reflect.construct;
      Reflect.construct = function (target, args, newTarget) { seen.push(target); return construct(target, args, newTarget); };
      new Date();
      Reflect.construct = construct;
      const leaked = seen.filter((f) => f !== Date);
      const Real = leaked[0] ?? Date;
      const t0 = [new Real().getTime(), typeof Real.now === "function" ? Real.now() : 0];
      let x = 0; for (let i = 0; i < 2e7; i++) x += i;
      const t1 = [new Real().getTime(), typeof Real.now === "function" ? Real.now() : 0];
      return [leaked.length, t0, t1, x > 0];
    } };`,
    "run",
  );
  const [leaked, t0, t1] = result;
  assert.deepEqual(t1, t0, "time moved during computation");
  assert.equal(leaked, 0, "the runtime passed a constructor other than the sandbox's Date to Reflect.construct");
});
