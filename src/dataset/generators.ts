import { ATTACK_FAMILIES, type AttackFamily, attackTask } from "./attacks.ts";
import {
  BENIGN_FAMILIES,
  BENIGN_WEIGHTS,
  type BenignFamily,
  borrowTask,
  contractDeployTask,
  depositTask,
  flashArbitrageTask,
  flashLiquidationTask,
  largePositionTask,
  oracleUpdateTask,
  repayTask,
  rewardClaimTask,
  routerMulticallTask,
  swapTask,
  tokenDeployTask,
  transferTask,
  whaleSwapTask,
  withdrawTask,
} from "./benign.ts";
import type { TaskFactory } from "./task.ts";

/**
 * The scenario generators by family: attack families (one per pattern of shared/attacks.md the
 * scenario library implements) and benign families (everyday traffic and the look-alikes). Each
 * is a task factory: given a context with its own seeded PRNG it yields the transactions of one
 * sample (or of a short storyline) block by block; see task.ts, attacks.ts and benign.ts.
 */

export { ATTACK_FAMILIES, type AttackFamily, BENIGN_FAMILIES, BENIGN_WEIGHTS, type BenignFamily };

const BENIGN: Record<BenignFamily, TaskFactory> = {
  swap: swapTask,
  "whale-swap": whaleSwapTask,
  transfer: transferTask,
  deposit: depositTask,
  withdraw: withdrawTask,
  borrow: borrowTask,
  repay: repayTask,
  "flash-arbitrage": flashArbitrageTask,
  "flash-liquidation": flashLiquidationTask,
  "large-deposit-withdraw-borrow": largePositionTask,
  "oracle-update": oracleUpdateTask,
  "reward-claim": rewardClaimTask,
  "router-multicall": routerMulticallTask,
  "token-deploy": tokenDeployTask,
  "contract-deploy": contractDeployTask,
};

export function isAttackFamily(family: string): family is AttackFamily {
  return (ATTACK_FAMILIES as readonly string[]).includes(family);
}

export function taskFor(family: string): TaskFactory {
  if (isAttackFamily(family)) return attackTask(family);
  const f = BENIGN[family as BenignFamily];
  if (!f) throw new Error(`unknown family ${family}`);
  return f;
}
