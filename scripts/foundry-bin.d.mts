/** Absolute path of a Foundry binary shipped in the @foundry-rs/* npm platform packages. */
export function foundryBinary(tool: "anvil" | "forge" | "cast"): string;
