import { type Address, type Hex, keccak256, toHex } from "viem";
import { describe, expect, it } from "vitest";
import { createPrefilter } from "../src/source/prefilter.ts";
import type { PendingTx } from "../src/source/types.ts";

const MARKET: Address = "0x1111111111111111111111111111111111111111";
const TOKEN: Address = "0x2222222222222222222222222222222222222222";
const FRESH: Address = "0x3333333333333333333333333333333333333333";
const SENDER: Address = "0x4444444444444444444444444444444444444444";
const word = (a: Address) => a.slice(2).toLowerCase().padStart(64, "0");

let n = 0;
const tx = (t: Partial<PendingTx>): PendingTx => ({
  hash: keccak256(toHex(`tx ${n++}`)),
  from: SENDER,
  to: FRESH,
  nonce: n,
  input: "0x12345678",
  value: 0n,
  gas: 200_000n,
  gasPrice: undefined,
  maxFeePerGas: undefined,
  maxPriorityFeePerGas: undefined,
  type: "0x2",
  chainId: 1,
  seenAt: 0,
  ...t,
});
/** attack(lender, victim, amount): the victim named as an argument. */
const naming = (victim: Address): Hex => `0x12345678${word(TOKEN)}${word(victim)}${"0".repeat(63)}1`;

describe("prefilter rank", () => {
  it("ranks a heavy call to a contract nobody uses yet in the fast lane (3), a light one below", () => {
    const p = createPrefilter({ protectedAddresses: [MARKET] });
    expect(p.rank(tx({ gas: 3_000_000n }))).toBe(3);
    expect(p.rank(tx({ to: TOKEN }))).toBe(2);
    expect(p.rank(tx({ input: "0x", to: TOKEN }))).toBe(0);
    expect(p.rank(tx({ to: null, input: "0x6080", gas: 3_000_000n }))).toBe(3);
  });

  it("ranks calldata that names a protected contract one higher", () => {
    const p = createPrefilter({ protectedAddresses: [MARKET] });
    // A light call to a new contract told its victim: the fast lane, where it was not before.
    expect(p.rank(tx({ to: "0x5555555555555555555555555555555555555555", input: naming(MARKET) }))).toBe(3);
    expect(createPrefilter().rank(tx({ input: naming(MARKET) }))).toBe(2);
    // Another address in the same place does not count.
    expect(p.rank(tx({ to: "0x6666666666666666666666666666666666666666", input: naming(SENDER) }))).toBe(2);
    // Packed (not word-aligned) and upper-case hex count too.
    const packed = `0xabcdef${MARKET.slice(2).toUpperCase()}` as Hex;
    expect(p.rank(tx({ to: "0x7777777777777777777777777777777777777777", input: packed }))).toBe(3);
  });

  it("keeps a heavy call that names its target in the fast lane though its contract was made to look busy", () => {
    const p = createPrefilter({ protectedAddresses: [MARKET], busyAfter: 8 });
    const attacker: Address = "0x8888888888888888888888888888888888888888";
    for (let i = 0; i < 8; i++) p.rank(tx({ to: attacker, input: "0xdeadbeef" }));
    // Busy now: a heavy call without a name ranks 2, with its target named 3.
    expect(p.rank(tx({ to: attacker, gas: 3_000_000n }))).toBe(2);
    expect(p.rank(tx({ to: attacker, gas: 3_000_000n, input: naming(MARKET) }))).toBe(3);
    // A token approval to the market (a busy token, little gas) stays out of the fast lane.
    for (let i = 0; i < 8; i++) p.rank(tx({ to: TOKEN }));
    expect(p.rank(tx({ to: TOKEN, input: `0x095ea7b3${word(MARKET)}${"f".repeat(64)}` }))).toBe(2);
  });
});
