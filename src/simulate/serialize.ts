import type { Simulation } from "./types.ts";

/**
 * JSON for simulations (recorded traces in test fixtures, incident evidence): bigints become
 * `{ "$bigint": "123" }` so that a round trip gives back exactly the same values.
 */
export function simulationToJson(sim: Simulation): string {
  return JSON.stringify(sim, (_k, v) => (typeof v === "bigint" ? { $bigint: v.toString() } : v), 1);
}

export function simulationFromJson(text: string): Simulation {
  return JSON.parse(text, (_k, v) =>
    v !== null && typeof v === "object" && typeof v.$bigint === "string" && Object.keys(v).length === 1
      ? BigInt(v.$bigint)
      : v,
  ) as Simulation;
}
