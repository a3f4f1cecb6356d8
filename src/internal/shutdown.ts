import type { Logger } from "./logger.ts";

/**
 * Orderly shutdown for long-running commands: components register cleanups (close sockets, stop
 * Anvil children); SIGINT/SIGTERM runs them in reverse order of registration. A second signal
 * exits at once, and a grace timer bounds the whole stop.
 */
export type Shutdown = {
  register(name: string, cleanup: () => Promise<void> | void): void;
  /** Resolves once a signal arrived (or `stop()` was called) and every cleanup ran. */
  done: Promise<void>;
  stop(reason: string): Promise<void>;
};

export function createShutdown(logger: Logger, options: { graceMs?: number } = {}): Shutdown {
  const cleanups: { name: string; fn: () => Promise<void> | void }[] = [];
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let stopping: Promise<void> | undefined;

  async function stop(reason: string): Promise<void> {
    if (stopping) return stopping;
    logger.info({ reason }, "Stopping");
    const grace = setTimeout(() => {
      logger.error({ grace_ms: options.graceMs ?? 10_000 }, "Cleanup took too long; exiting");
      process.exit(1);
    }, options.graceMs ?? 10_000);
    grace.unref();
    stopping = (async () => {
      for (const c of [...cleanups].reverse()) {
        try {
          await c.fn();
        } catch (error) {
          logger.warn({ component: c.name, err: String(error) }, "Cleanup failed");
        }
      }
      clearTimeout(grace);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolveDone();
    })();
    return stopping;
  }

  function onSignal(signal: NodeJS.Signals) {
    if (stopping) {
      logger.warn({ signal }, "Received a second signal; exiting now");
      process.exit(130);
    }
    void stop(signal);
  }
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  return {
    register(name, fn) {
      cleanups.push({ name, fn });
    },
    done,
    stop,
  };
}
