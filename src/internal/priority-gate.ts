/**
 * Gives urgent work the machine. While an urgent job holds the gate, ordinary jobs wait before
 * they start; those already running finish. On a machine whose cores are all busy, a simulation's
 * time grows with everything else that runs beside it: an attack's call trace took 2 ms on an idle
 * fork and 10 ms at 200 tx/s of ordinary load, sharing two cores with six other simulations.
 *
 * Bounded, so that a stream of urgent-looking work cannot starve the rest: a hold ends by itself
 * after `maxHoldMs`, and a new hold is only granted while holds have taken less than `maxShare`
 * of the last `windowMs`. A job refused a hold simply runs without one.
 */
export type PriorityGate = {
  /** Starts an urgent job's hold; the function returned ends it (calling it again does nothing). */
  hold(): () => void;
  /** Resolves when no hold is in force (at once if none). */
  clear(): Promise<void>;
  stats(): PriorityGateStats;
};

export type PriorityGateStats = {
  /** Holds granted, and holds refused because the budget was spent. */
  holds: number;
  refused: number;
  /** Holds ended by their time limit rather than by their job. */
  expired: number;
  /** Ordinary jobs that waited, and their total wait (ms). */
  waits: number;
  waitedMs: number;
  /** Time with at least one hold in force (ms). */
  heldMs: number;
};

export function createPriorityGate(
  options: { maxHoldMs?: number; windowMs?: number; maxShare?: number; now?: () => number } = {},
): PriorityGate {
  const maxHoldMs = options.maxHoldMs ?? 100;
  const windowMs = options.windowMs ?? 1_000;
  const maxShare = options.maxShare ?? 0.5;
  const now = options.now ?? (() => performance.now());
  let holders = 0;
  let heldSince = 0;
  /** Past periods with a hold in force, oldest first, within the last window. */
  const periods: { start: number; end: number }[] = [];
  let waiters: (() => void)[] = [];
  const stats: PriorityGateStats = { holds: 0, refused: 0, expired: 0, waits: 0, waitedMs: 0, heldMs: 0 };

  /** Time held within the last window, the hold in force included. */
  function heldInWindow(at: number): number {
    const from = at - windowMs;
    while (periods.length > 0 && (periods[0]?.end ?? at) <= from) periods.shift();
    let sum = 0;
    for (const p of periods) sum += p.end - Math.max(p.start, from);
    if (holders > 0) sum += at - Math.max(heldSince, from);
    return sum;
  }

  function end(): void {
    holders--;
    if (holders > 0) return;
    const at = now();
    periods.push({ start: heldSince, end: at });
    stats.heldMs += at - heldSince;
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  }

  return {
    hold() {
      const at = now();
      if (heldInWindow(at) >= maxShare * windowMs) {
        stats.refused++;
        return () => {};
      }
      stats.holds++;
      if (holders === 0) heldSince = at;
      holders++;
      let ended = false;
      const timer = setTimeout(() => {
        if (ended) return;
        ended = true;
        stats.expired++;
        end();
      }, maxHoldMs);
      timer.unref?.();
      return () => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        end();
      };
    },
    clear() {
      if (holders === 0) return Promise.resolve();
      const started = now();
      stats.waits++;
      return new Promise<void>((resolve) => {
        waiters.push(() => {
          stats.waitedMs += now() - started;
          resolve();
        });
      });
    },
    stats: () => ({ ...stats, waitedMs: Math.round(stats.waitedMs), heldMs: Math.round(stats.heldMs) }),
  };
}
