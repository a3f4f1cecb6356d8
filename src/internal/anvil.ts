import { createAnvil } from "@viem/anvil";
import { foundryBinary } from "../../scripts/foundry-bin.mjs";
import { ProcessError } from "./errors.ts";
import { freePort } from "./ports.ts";

export type AnvilOptions = {
  /** Port to listen on; a free one is picked when absent. */
  port?: number;
  /** Do not mine on transactions: the local builder (or a test) decides when a block is made. */
  noMining?: boolean;
  /** Mempool order: "fifo" lets a builder place bundles ahead of public transactions. */
  order?: "fifo" | "fees";
  /** Fork this node (another Anvil or a remote RPC). */
  forkUrl?: string;
  forkBlockNumber?: bigint;
  chainId?: number;
  /** Block gas limit. */
  gasLimit?: bigint;
  /** How many funded dev accounts (default 10). */
  accounts?: number;
  /** Keep at most this many recent states in memory (a long-running devnet's memory stays bounded). */
  pruneHistory?: number;
};

export type AnvilInstance = {
  readonly port: number;
  readonly rpcUrl: string;
  readonly wsUrl: string;
  /** Stops the process; safe to call twice. */
  stop(): Promise<void>;
};

const live = new Set<AnvilInstance>();

/** Every Anvil started by this process and not yet stopped. */
export function liveAnvils(): readonly AnvilInstance[] {
  return [...live];
}

/** Stops every Anvil this process started (used by shutdown paths and test teardown). */
export async function stopAllAnvils(): Promise<void> {
  await Promise.allSettled([...live].map((a) => a.stop()));
}

/**
 * Starts a real Anvil (the binary from @foundry-rs/anvil, not the slower Node wrapper) and resolves
 * once it listens. The child is killed if this process exits (execa cleanup), and `stop()` waits
 * for it to be gone.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilInstance> {
  const attempts = options.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(port, options);
    } catch (error) {
      lastError = error;
      // Another process may have taken the port between freePort() and bind: try a new one.
      if (!String(error).includes("in use")) break;
    }
  }
  throw new ProcessError("Anvil did not start", {
    details: [String(lastError instanceof Error ? lastError.message : lastError)],
    hint: "check that node_modules/@foundry-rs/anvil-* is installed (npm ci) and the port is free",
    cause: lastError,
  });
}

async function launch(port: number, options: AnvilOptions): Promise<AnvilInstance> {
  const anvil = createAnvil({
    anvilBinary: foundryBinary("anvil"),
    host: "127.0.0.1",
    port,
    noMining: options.noMining ?? false,
    order: options.order,
    forkUrl: options.forkUrl,
    forkBlockNumber: options.forkBlockNumber,
    chainId: options.chainId,
    gasLimit: options.gasLimit,
    accounts: options.accounts,
    ...(options.pruneHistory === undefined ? {} : { pruneHistory: options.pruneHistory }),
    startTimeout: 20_000,
  });
  await anvil.start();
  let stopped = false;
  // If the process died on its own, stop() must not wait for a close that already happened.
  let exited = false;
  anvil.on("exit", () => {
    exited = true;
  });
  const instance: AnvilInstance = {
    port,
    rpcUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(instance);
      if (exited) return;
      await anvil.stop();
    },
  };
  live.add(instance);
  return instance;
}
