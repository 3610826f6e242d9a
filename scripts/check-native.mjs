// npm 11 can skip dependency install scripts; without isolated-vm's native addon islet cannot run.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
try {
  const ivm = require("isolated-vm");
  const isolate = new ivm.Isolate({ memoryLimit: 8 });
  const result = isolate.createContextSync().evalSync("6 * 7");
  isolate.dispose();
  if (result !== 42) throw new Error(`unexpected result ${result}`);
} catch (error) {
  console.error(
    "\nislet: isolated-vm's native addon is not usable: " + (error && error.message) + "\n" +
    `islet needs Node.js 24 or 26 (this is ${process.version}); isolated-vm 7 ships prebuilt addons for them on\n` +
    "linux x64/arm64, macOS arm64 and Windows x64. Elsewhere it compiles from source, which needs python3, make\n" +
    "and g++ (Debian: apt-get install -y python3 make g++), and npm must be allowed to run its install script\n" +
    "(package.json \"allowScripts\"). Then run: npm rebuild isolated-vm\n",
  );
  process.exit(1);
}
