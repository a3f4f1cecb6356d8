#!/usr/bin/env node
// Runs Forge from node_modules with the given arguments (e.g. `node scripts/forge.mjs test`).
import { spawnSync } from "node:child_process";
import { foundryBinary } from "./foundry-bin.mjs";

const r = spawnSync(foundryBinary("forge"), process.argv.slice(2), { stdio: "inherit" });
process.exit(r.status ?? 1);
