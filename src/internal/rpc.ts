import { RpcError } from "./errors.ts";
import { postJson } from "./http-post.ts";

/**
 * A minimal JSON-RPC client over HTTP: one request per call, no batching stall, no caching.
 * Used where we speak Anvil-specific methods (evm_*, anvil_*, txpool_*) or need raw speed.
 */
export type Rpc = {
  readonly url: string;
  call<T = unknown>(method: string, params?: readonly unknown[]): Promise<T>;
  /**
   * Many calls in one HTTP request (a JSON-RPC batch). Each item is the result or the RpcError
   * for that call, in order; only a transport failure rejects the whole batch.
   */
  batch<T = unknown>(
    calls: readonly { method: string; params?: readonly unknown[] }[],
  ): Promise<(T | RpcError)[]>;
};

let nextId = 1;

export function createRpc(url: string, options: { timeoutMs?: number } = {}): Rpc {
  const timeoutMs = options.timeoutMs ?? 30_000;
  async function post(url: string, body: string, what: string): Promise<{ status: number; text: string }> {
    try {
      return await postJson(url, body, timeoutMs);
    } catch (error) {
      throw new RpcError(`${what}: no answer from ${url}`, {
        hint: "check the node is running and reachable",
        cause: error,
      });
    }
  }

  return {
    url,
    async batch<T>(
      calls: readonly { method: string; params?: readonly unknown[] }[],
    ): Promise<(T | RpcError)[]> {
      if (calls.length === 0) return [];
      const first = nextId;
      nextId += calls.length;
      const body = JSON.stringify(
        calls.map((c, i) => ({ jsonrpc: "2.0", id: first + i, method: c.method, params: c.params ?? [] })),
      );
      const { status, text } = await post(url, body, `batch of ${calls.length}`);
      let answers: {
        id: number;
        result?: unknown;
        error?: { code?: number; message?: string; data?: unknown };
      }[];
      try {
        answers = JSON.parse(text);
      } catch (error) {
        throw new RpcError(`batch: ${url} answered HTTP ${status} with non-JSON`, { cause: error });
      }
      if (!Array.isArray(answers)) throw new RpcError(`batch: ${url} did not answer with an array`);
      const byId = new Map(answers.map((a) => [a.id, a]));
      return calls.map((c, i) => {
        const a = byId.get(first + i);
        if (!a) return new RpcError(`${c.method}: missing from the batch answer`);
        if (a.error) {
          return new RpcError(`${c.method}: ${a.error.message ?? "error"}`, {
            ...(a.error.code === undefined ? {} : { code: a.error.code }),
            data: a.error.data,
          });
        }
        return a.result as T;
      });
    },
    async call<T>(method: string, params: readonly unknown[] = []): Promise<T> {
      const id = nextId++;
      const { status, text } = await post(
        url,
        JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        method,
      );
      let body: { result?: unknown; error?: { code?: number; message?: string; data?: unknown } };
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new RpcError(`${method}: ${url} answered HTTP ${status} with non-JSON`, {
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
