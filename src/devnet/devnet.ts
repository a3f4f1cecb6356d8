import { type AnvilInstance, startAnvil } from "../internal/anvil.ts";
import type { Logger } from "../internal/logger.ts";
import { devnetAccount } from "./accounts.ts";
import { connectDevnet, type Devnet } from "./chain.ts";
import { startRelay } from "./relay/relay.ts";
import { type Deployment, type DeployProgress, deployWorld, writeDeployment } from "./world.ts";

export type RunningDevnet = {
  readonly anvil: AnvilInstance;
  readonly devnet: Devnet;
  readonly deployment: Deployment;
  readonly relayUrl: string;
  /** Builds the next block now (useful with blockTimeMs 0). */
  buildBlock: Awaited<ReturnType<typeof startRelay>>["buildBlock"];
  /** Resolves with the next block the relay builds. */
  nextBlock: Awaited<ReturnType<typeof startRelay>>["nextBlock"];
  stop(): Promise<void>;
};

export type StartDevnetOptions = {
  anvilPort?: number;
  /** Block gas limit (Anvil's default is 30M; load benchmarks raise it). */
  gasLimit?: bigint;
  /** Recent states Anvil keeps in memory (default: all). */
  keepStates?: number;
  relayPort?: number;
  /** 0 = blocks only on `buildBlock()`. */
  blockTimeMs: number;
  deploymentFile?: string;
  logger: Logger;
  progress?: DeployProgress;
};

/**
 * Anvil with no automine and FIFO order, the world deployed from scratch, and the local relay as
 * the only block producer. Stops everything it started if any step fails.
 */
export async function startDevnet(options: StartDevnetOptions): Promise<RunningDevnet> {
  const anvil = await startAnvil({
    noMining: true,
    order: "fifo",
    ...(options.anvilPort === undefined ? {} : { port: options.anvilPort }),
    ...(options.gasLimit === undefined ? {} : { gasLimit: options.gasLimit }),
    ...(options.keepStates === undefined ? {} : { pruneHistory: options.keepStates }),
  });
  try {
    const devnet = await connectDevnet(anvil.rpcUrl);
    const deployment = await deployWorld(devnet, options.progress);
    if (options.deploymentFile) writeDeployment(options.deploymentFile, deployment);
    const relay = await startRelay({
      rpcUrl: anvil.rpcUrl,
      wsUrl: anvil.wsUrl,
      blockTimeMs: options.blockTimeMs,
      coinbase: devnetAccount("relaySigner").address,
      logger: options.logger,
      ...(options.relayPort === undefined ? {} : { port: options.relayPort }),
    });
    return {
      anvil,
      devnet,
      deployment,
      relayUrl: relay.url,
      buildBlock: relay.buildBlock,
      nextBlock: relay.nextBlock,
      async stop() {
        await relay.stop();
        await anvil.stop();
      },
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}
