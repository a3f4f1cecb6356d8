import type { Address } from "viem";
import type { Rpc } from "../internal/rpc.ts";
import { pauseCalldata } from "./pause-tx.ts";

/**
 * Keeps the pause's own path warm: the Guardian, the sentinel and the targets' pause functions are
 * read once per head on a fork (an eth_call of the pause), and marked as used, so they stay in
 * the state forks load at each head. A first attack after a long quiet spell then proves as fast
 * as any. One read at a time; a call while one runs is dropped.
 */
export function createPausePathWarmer(options: {
  guardian: Address;
  sentinel: Address;
  targets: readonly Address[];
  withFork: (fn: (rpc: Rpc) => Promise<unknown>) => Promise<unknown>;
  keepWarm?: (addresses: Address[]) => void;
}): () => Promise<void> {
  const call = {
    from: options.sentinel,
    to: options.guardian,
    data: pauseCalldata(options.targets, `0x${"00".repeat(32)}`),
  };
  const path = [options.guardian, options.sentinel, ...options.targets];
  let running = false;
  return async () => {
    if (running) return;
    running = true;
    try {
      await options.withFork((rpc) => rpc.call("eth_call", [call, "latest"]).catch(() => undefined));
      options.keepWarm?.(path);
    } catch {
      // The fork pool is stopping: nothing to warm.
    } finally {
      running = false;
    }
  };
}
