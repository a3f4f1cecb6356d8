import WebSocket from "ws";
import { RpcError } from "../internal/errors.ts";

/**
 * JSON-RPC over one WebSocket: requests matched to responses by id, subscriptions routed by id,
 * and a keep-alive that notices a dead peer. It never reconnects: it reports the close once and
 * the owner (the mempool source) decides what to do. One socket, one life.
 */

export type RpcSocketOptions = {
  url: string;
  /** Give up opening after this long (TCP + WebSocket handshake). */
  connectTimeoutMs: number;
  /** Give up on one request after this long; the socket is closed too, since it is suspect. */
  requestTimeoutMs: number;
  /**
   * A WebSocket ping every `intervalMs`; nothing received within `timeoutMs`, pong or message,
   * means the peer is gone (a half-open TCP connection otherwise looks healthy for minutes while
   * nothing arrives). A busy node queues its pong behind the notifications it is still sending:
   * those prove it alive.
   */
  keepAlive: { intervalMs: number; timeoutMs: number };
  /** A message that is neither a response we wait for nor a notification of ours. */
  onMalformed(reason: string): void;
  /** The connection ended without `close()` being called. Called at most once. */
  onClose(reason: string): void;
  /** Aborts the opening (the owner is stopping). */
  signal?: AbortSignal;
};

export type RpcSocket = {
  request(method: string, params: readonly unknown[]): Promise<unknown>;
  /**
   * `eth_subscribe` with `params`; resolves with the subscription id. The handler is attached as
   * soon as the response is read, before any later message on the socket is dispatched: the node
   * may send the first notification in the same TCP segment as the response.
   */
  subscribe(params: readonly unknown[], onResult: (result: unknown) => void): Promise<string>;
  isOpen(): boolean;
  /** Closes on purpose: `onClose` is not called. */
  close(): void;
};

type Pending = {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** Runs synchronously when the response arrives (see `subscribe`). */
  onSuccess?: (result: unknown) => void;
};

let nextId = 1;

export async function openRpcSocket(options: RpcSocketOptions): Promise<RpcSocket> {
  const ws = await open(options);
  const pending = new Map<number, Pending>();
  const subscriptions = new Map<string, (result: unknown) => void>();
  let closedByUs = false;
  let ended = false;
  let pongTimer: NodeJS.Timeout | undefined;

  const ping = setInterval(() => {
    if (pongTimer !== undefined) return;
    ws.ping();
    pongTimer = setTimeout(() => {
      pongTimer = undefined;
      terminate(`no pong or message within ${options.keepAlive.timeoutMs} ms`);
    }, options.keepAlive.timeoutMs);
  }, options.keepAlive.intervalMs);

  /** Anything from the peer answers the ping in flight. */
  const alive = () => {
    if (pongTimer === undefined) return;
    clearTimeout(pongTimer);
    pongTimer = undefined;
  };
  ws.on("pong", alive);

  /** Ends this socket's life exactly once: timers, waiting requests, owner notice. */
  function end(reason: string): void {
    if (ended) return;
    ended = true;
    clearInterval(ping);
    if (pongTimer !== undefined) clearTimeout(pongTimer);
    pongTimer = undefined;
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(
        new RpcError(`${p.method}: the WebSocket closed before the node answered`, { details: [reason] }),
      );
      pending.delete(id);
    }
    subscriptions.clear();
    if (!closedByUs) options.onClose(reason);
  }

  function terminate(reason: string): void {
    end(reason);
    ws.terminate();
  }

  ws.on("close", (code, why) => end(`closed with code ${code}${why.length ? ` (${why.toString()})` : ""}`));
  ws.on("error", (error) => terminate(`socket error: ${error.message}`));
  ws.on("message", (data, isBinary) => {
    alive();
    if (isBinary) {
      options.onMalformed("binary message");
      return;
    }
    dispatch(rawText(data));
  });

  function dispatch(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      options.onMalformed("message is not JSON");
      return;
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      options.onMalformed("message is not a JSON object");
      return;
    }
    const m = msg as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
    if (typeof m.id === "number" && pending.has(m.id)) {
      settle(m.id, m.result, m.error);
      return;
    }
    if (m.method === "eth_subscription" && typeof m.params === "object" && m.params !== null) {
      const params = m.params as { subscription?: unknown; result?: unknown };
      const handler =
        typeof params.subscription === "string" ? subscriptions.get(params.subscription) : undefined;
      if (handler) {
        handler(params.result);
        return;
      }
      options.onMalformed("notification for an unknown subscription");
      return;
    }
    options.onMalformed("message is neither a response we wait for nor a notification");
  }

  function settle(id: number, result: unknown, error: unknown): void {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    clearTimeout(p.timer);
    if (error !== undefined && error !== null) {
      const e = error as { code?: unknown; message?: unknown; data?: unknown };
      p.reject(
        new RpcError(`${p.method}: ${typeof e.message === "string" ? e.message : "error"}`, {
          ...(typeof e.code === "number" ? { code: e.code, details: [`code ${e.code}`] } : {}),
          data: e.data,
        }),
      );
      return;
    }
    try {
      p.onSuccess?.(result);
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    p.resolve(result);
  }

  function send(method: string, params: readonly unknown[], onSuccess?: (result: unknown) => void) {
    return new Promise<unknown>((resolve, reject) => {
      if (ended || ws.readyState !== WebSocket.OPEN) {
        reject(new RpcError(`${method}: the WebSocket is not open`));
        return;
      }
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new RpcError(`${method}: no answer within ${options.requestTimeoutMs} ms`));
        terminate(`${method} timed out`);
      }, options.requestTimeoutMs);
      pending.set(id, { method, resolve, reject, timer, ...(onSuccess ? { onSuccess } : {}) });
      ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }), (error) => {
        if (error) terminate(`send failed: ${error.message}`);
      });
    });
  }

  return {
    request: (method, params) => send(method, params),
    async subscribe(params, onResult) {
      const id = await send("eth_subscribe", params, (result) => {
        if (typeof result !== "string") throw new RpcError("eth_subscribe: the node answered without an id");
        subscriptions.set(result, onResult);
      });
      return id as string;
    },
    isOpen: () => !ended && ws.readyState === WebSocket.OPEN,
    close() {
      if (ended) return;
      closedByUs = true;
      end("closed by Vigil");
      // terminate, not close: a polite close waits up to 30 s for a peer that may be gone.
      ws.terminate();
    },
  };
}

function rawText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString("utf8");
  return data.toString("utf8");
}

/** Opens the WebSocket; rejects with an RpcError (the caller adds the hint) on any failure. */
function open(options: RpcSocketOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new RpcError("connection aborted"));
      return;
    }
    const ws = new WebSocket(options.url, { handshakeTimeout: options.connectTimeoutMs });
    const onAbort = () => fail(new RpcError("connection aborted"));
    function fail(error: Error): void {
      cleanup();
      ws.removeAllListeners();
      // Swallow the error the terminated socket may still emit.
      ws.on("error", () => undefined);
      ws.terminate();
      reject(error);
    }
    function cleanup(): void {
      options.signal?.removeEventListener("abort", onAbort);
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    ws.once("open", () => {
      cleanup();
      ws.removeAllListeners();
      resolve(ws);
    });
    ws.once("error", (error) => fail(new RpcError(error.message, { cause: error })));
    ws.once("close", (code) => fail(new RpcError(`closed with code ${code} while opening`)));
    ws.once("unexpected-response", (_req, res) =>
      fail(new RpcError(`the server answered HTTP ${res.statusCode} instead of upgrading to WebSocket`)),
    );
  });
}
