import { type Hex, toHex } from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";

/**
 * Anvil's public development mnemonic. Its keys are published with Foundry and hold value only on
 * local devnets; they exist so that a fire drill needs no secrets. Never use them on a real chain.
 */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

/** Roles on the devnet, by Anvil account index. */
export const DEVNET_ROLES = {
  deployer: 0,
  safeOwner1: 1,
  safeOwner2: 2,
  safeOwner3: 3,
  sentinel: 4,
  attacker: 5,
  trader: 6,
  whale: 7,
  arbitrageur: 8,
  relaySigner: 9,
} as const;

export type DevnetRole = keyof typeof DEVNET_ROLES;

const cache = new Map<number, HDAccount>();

/** The Anvil dev account at `index` (deterministic from the public mnemonic). */
export function anvilAccount(index: number): HDAccount {
  let account = cache.get(index);
  if (!account) {
    account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
    cache.set(index, account);
  }
  return account;
}

export function devnetAccount(role: DevnetRole): HDAccount {
  return anvilAccount(DEVNET_ROLES[role]);
}

/** The private key of a devnet role (public dev key: for the drill and tests only). */
export function devnetPrivateKey(role: DevnetRole): Hex {
  const key = devnetAccount(role).getHdKey().privateKey;
  if (!key) throw new Error(`no private key for ${role}`);
  return toHex(key);
}
