// Loaded with --import by scripts/test.mjs into every test file's process: see src/cli/clean-exit.ts.
// A failing test still fails: the runner reads results and the exit status as before (checked by
// hand with failing, throwing and late-throwing test files).
import { exitCleanly } from "../src/cli/clean-exit.ts";

exitCleanly();
