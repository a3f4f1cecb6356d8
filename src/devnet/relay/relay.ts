import http from "node:http";
import type { AddressInfo } from "node:net";
import { type Address, type Hex, isAddress, keccak256, toHex, verifyMessage } from "viem";
import { describeError, InputError } from "../../internal/errors.ts";
import type { Logger } from "../../internal/logger.ts";
import { type Builder, type BuiltBlock, createBuilder } from "./builder.ts";
import { BundleStore, parseCallBundle, parseSendBundle } from "./bundle.ts";

/**
 * A local stand-in for a Flashbots relay, because no real relay is reachable here. It speaks the
 * same wire protocol (`eth_sendBundle`, `eth_callBundle`, `eth_cancelBundle`, authenticated by the
 * `X-Flashbots-Signature` header) and drives the devnet's block builder. Any other JSON-RPC method
 * is forwarded to the devnet node, so the relay URL also works as a plain RPC endpoint.
 */

export type RelayOptions = {
  /** Devnet node (HTTP and WebSocket). */
  rpcUrl: string;
  wsUrl: string;
  /** Port to listen on (0 = any free port). */
  port?: number;
  /** Milliseconds between blocks; 0 = only when `buildBlock()` is called. */
  blockTimeMs: number;
  coinbase: Address;
  logger: Logger;
};

export type Relay = {
  readonly url: string;
  /** Builds and mines the next block now (also used by the block timer). */
  buildBlock(): Promise<BuiltBlock>;
  /** Resolves with the next block this relay builds. */
  nextBlock(): Promise<BuiltBlock>;
  stop(): Promise<void>;
};

const BUNDLE_METHODS = new Set(["eth_sendBundle", "eth_callBundle", "eth_cancelBundle"]);
const MAX_BODY = 1_000_000;

type JsonRpcRequest = { jsonrpc?: string; id?: unknown; method?: unknown; params?: unknown };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks `X-Flashbots-Signature: <address>:<signature>`, where the signature is an EIP-191
 * personal-sign of the hex string keccak256(body). Returns the signer or throws HttpError(403).
 */
export async function verifyFlashbotsSignature(header: string | undefined, body: string): Promise<Address> {
  if (!header) throw new HttpError(403, "missing X-Flashbots-Signature header");
  const sep = header.indexOf(":");
  const address = header.slice(0, sep);
  const signature = header.slice(sep + 1) as Hex;
  if (sep < 0 || !isAddress(address, { strict: false }) || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    throw new HttpError(403, "X-Flashbots-Signature must be <address>:<65-byte hex signature>");
  }
  const digest = keccak256(toHex(body));
  const ok = await verifyMessage({ address, message: digest, signature }).catch(() => false);
  if (!ok) throw new HttpError(403, "X-Flashbots-Signature does not match the request body and address");
  return address;
}

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const { logger } = options;
  const store = new BundleStore();
  const builder: Builder = await createBuilder({
    rpcUrl: options.rpcUrl,
    wsUrl: options.wsUrl,
    store,
    logger,
    coinbase: options.coinbase,
  });
  let seq = 0;
  let waiters: ((b: BuiltBlock) => void)[] = [];

  async function buildBlock(): Promise<BuiltBlock> {
    const built = await builder.buildBlock();
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve(built);
    return built;
  }

  async function handle(method: string, params: unknown, signer: Address | undefined): Promise<unknown> {
    switch (method) {
      case "eth_sendBundle": {
        const bundle = await parseSendBundle(params, signer as Address, seq++);
        const { replaced } = store.add(bundle);
        logger.info(
          {
            bundle_hash: bundle.bundleHash,
            block: Number(bundle.blockNumber),
            txs: bundle.txs.length,
            signer: bundle.signer,
            ...(replaced ? { replaced } : {}),
          },
          "Received bundle",
        );
        return { bundleHash: bundle.bundleHash };
      }
      case "eth_callBundle":
        return builder.callBundle(await parseCallBundle(params));
      case "eth_cancelBundle": {
        const p = Array.isArray(params)
          ? (params[0] as { replacementUuid?: unknown } | undefined)
          : undefined;
        if (typeof p?.replacementUuid !== "string") {
          throw new InputError("eth_cancelBundle expects params [{ replacementUuid }]");
        }
        const cancelled = store.cancel(signer as Address, p.replacementUuid);
        logger.info({ replacement_uuid: p.replacementUuid, cancelled: cancelled.length }, "Cancelled bundle");
        return cancelled;
      }
      default:
        throw new Error(`unreachable: ${method}`);
    }
  }

  /** Forwards a non-bundle request to the devnet node unchanged. */
  async function forward(body: string): Promise<{ status: number; text: string }> {
    const res = await fetch(options.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    return { status: res.status, text: await res.text() };
  }

  const server = http.createServer((req, res) => {
    const reply = (status: number, payload: unknown) => {
      const text = typeof payload === "string" ? payload : JSON.stringify(payload);
      res.writeHead(status, { "content-type": "application/json" }).end(text);
    };
    if (req.method !== "POST") {
      reply(405, {
        jsonrpc: "2.0",
        id: null,
        error: { code: -32600, message: "use POST with a JSON-RPC body" },
      });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reply(413, {
          jsonrpc: "2.0",
          id: null,
          error: { code: -32600, message: `body over ${MAX_BODY} bytes` },
        });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let request: JsonRpcRequest;
      try {
        request = JSON.parse(body) as JsonRpcRequest;
      } catch {
        reply(400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "body is not JSON" } });
        return;
      }
      const id = request?.id ?? null;
      const method = request?.method;
      if (Array.isArray(request) || typeof method !== "string" || !BUNDLE_METHODS.has(method)) {
        // Batches and ordinary methods go to the node as they are.
        try {
          const r = await forward(body);
          reply(r.status, r.text);
        } catch (error) {
          reply(502, {
            jsonrpc: "2.0",
            id,
            error: { code: -32603, message: `node unreachable: ${describeError(error)}` },
          });
        }
        return;
      }
      try {
        const signer = await verifyFlashbotsSignature(
          req.headers["x-flashbots-signature"] as string | undefined,
          body,
        );
        const result = await handle(method, request.params, signer);
        reply(200, { jsonrpc: "2.0", id, result });
      } catch (error) {
        if (error instanceof HttpError) {
          logger.warn({ method, reason: error.message }, "Refused request");
          reply(error.status, { jsonrpc: "2.0", id, error: { code: -32600, message: error.message } });
        } else {
          const code = error instanceof InputError ? -32602 : -32603;
          logger.warn({ method, reason: describeError(error) }, "Answered request with an error");
          reply(200, { jsonrpc: "2.0", id, error: { code, message: describeError(error) } });
        }
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<unknown> = Promise.resolve();
  let stopping = false;
  if (options.blockTimeMs > 0) {
    // Slots keep their cadence: the next block is due a block time after this one started, not
    // after it was built (a slow build made every later slot longer).
    const tick = async () => {
      if (stopping) return;
      const due = performance.now() + options.blockTimeMs;
      try {
        inflight = buildBlock();
        await inflight;
      } catch (error) {
        logger.error({ err: describeError(error) }, "Failed to build block");
      }
      if (!stopping) timer = setTimeout(tick, Math.max(0, due - performance.now()));
    };
    timer = setTimeout(tick, options.blockTimeMs);
  }
  logger.info({ url, block_time_ms: options.blockTimeMs }, "Started relay");

  return {
    url,
    buildBlock,
    nextBlock: () => new Promise((resolve) => waiters.push(resolve)),
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      await inflight.catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await builder.stop();
    },
  };
}
