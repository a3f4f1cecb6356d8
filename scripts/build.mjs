#!/usr/bin/env node
// Builds the `vigil` command into dist/vigil.mjs: one ES module bundling src/ (npm packages stay
// external), so the daemon runs as plain JavaScript. Through tsx every process also carries a
// loader thread and esbuild's service: about 70 MB more resident memory for a 24/7 daemon.
// Runs on `npm install` (prepare) and in `npm test`; bin/vigil.js falls back to tsx while the
// sources are newer than the build, so an edit never runs stale code.
//
//   node scripts/build.mjs [entry.ts out.mjs]   (the benchmark builds its daemon host the same way)
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Bundles one TypeScript entry point for Node; npm packages are imported at run time. */
export async function bundle(entry, outfile) {
  await build({
    entryPoints: [path.resolve(root, entry)],
    outfile: path.resolve(root, outfile),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    logLevel: "warning",
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry = "src/cli/main.ts", outfile = "dist/vigil.mjs"] = process.argv.slice(2);
  const started = performance.now();
  await bundle(entry, outfile);
  process.stdout.write(`built ${outfile} in ${Math.round(performance.now() - started)} ms\n`);
}
