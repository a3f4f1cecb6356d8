export type BackoffOptions = { initialDelayMs: number; maxDelayMs: number };

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential, capped at `maxDelayMs`, with
 * "equal jitter" (half fixed, half random). The jitter keeps replicas that lost the same node at
 * the same moment from hammering it in lockstep; the fixed half keeps a floor so a flapping node
 * is not retried in a tight loop.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exp = options.initialDelayMs * 2 ** Math.min(Math.max(attempt, 0), 30);
  const ceiling = Math.min(options.maxDelayMs, exp);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
