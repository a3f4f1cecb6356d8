// Paths of the real Foundry binaries shipped in the @foundry-rs/* platform packages. The
// `.bin/<tool>` wrappers are Node scripts that add ~170 ms per start; we call the binaries.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/** @param {"anvil" | "forge" | "cast"} tool */
export function foundryBinary(tool) {
  const platform = `${process.platform === "darwin" ? "darwin" : "linux"}-${process.arch === "arm64" ? "arm64" : "amd64"}`;
  const pkg = `@foundry-rs/${tool}-${platform}/package.json`;
  try {
    return path.join(path.dirname(require.resolve(pkg)), "bin", tool);
  } catch {
    throw new Error(`${tool} binary not found (${pkg}). Run \`npm ci\` to install the Foundry packages.`);
  }
}
