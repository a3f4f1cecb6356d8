import { RpcError } from "./errors.ts";

/**
 * A minimal JSON-RPC client over HTTP: one request per call, no batching stall, no caching.
 * Used where we speak Anvil-specific methods (evm_*, anvil_*, txpool_*) or need raw speed.
 */
export type Rpc = {
  readonly url: string;
  call<T = unknown>(method: string, params?: readonly unknown[]): Promise<T>;
};

let nextId = 1;

export function createRpc(url: string, options: { timeoutMs?: number } = {}): Rpc {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    url,
    async call<T>(method: string, params: readonly unknown[] = []): Promise<T> {
      const id = nextId++;
      let res: Response;
      try {
        res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        throw new RpcError(`${method}: no answer from ${url}`, {
          hint: "check the node is running and reachable",
          cause: error,
        });
      }
      const text = await res.text();
      let body: { result?: unknown; error?: { code?: number; message?: string; data?: unknown } };
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new RpcError(`${method}: ${url} answered HTTP ${res.status} with non-JSON`, {
          details: [text.slice(0, 200)],
          cause: error,
        });
      }
      if (body.error) {
        throw new RpcError(`${method}: ${body.error.message ?? "error"}`, {
          details: [
            `code ${body.error.code ?? "?"}`,
            ...(body.error.data ? [`data ${JSON.stringify(body.error.data)}`] : []),
          ],
          ...(body.error.code === undefined ? {} : { code: body.error.code }),
          data: body.error.data,
        });
      }
      return body.result as T;
    },
  };
}
