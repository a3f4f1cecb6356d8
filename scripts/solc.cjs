#!/usr/bin/env node
// A `solc` executable for Forge, backed by solc-js from npm (no native solc can be downloaded here).
// Forge needs two things of a compiler binary: `--version` and `--standard-json` (input on stdin).
// CommonJS on purpose: solc-js is CommonJS and this starts faster without the ESM loader.
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const solc = require("solc");

const args = process.argv.slice(2);
if (args.includes("--version")) {
  // Forge parses "Version: 0.8.x+commit.<hash>.<platform>"; solc-js reports ".Emscripten.clang".
  const v = solc.version().replace(/\.Emscripten\.clang$/, ".Linux.g++");
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${v}\n`);
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solc.cjs: only --version and --standard-json are supported\n");
  process.exit(2);
}
// Forge passes allowed paths with --allow-paths and the base with --base-path; imports arrive
// already remapped in the standard JSON, so resolve them against those roots.
const roots = [process.cwd()];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--base-path" || args[i] === "--include-path") roots.push(args[i + 1]);
  if (args[i] === "--allow-paths") roots.push(...args[i + 1].split(","));
}
function findImports(p) {
  for (const root of roots) {
    const full = path.resolve(root, p);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, "utf8") };
  }
  return { error: `File not found: ${p}` };
}
const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
