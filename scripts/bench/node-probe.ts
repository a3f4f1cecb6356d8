import WebSocket from "ws";
import { createRpc } from "../../src/internal/rpc.ts";

type Percentiles = {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
};

/**
 * How fast the node answers a dangerous call's tree at set times after each head, while the load
 * and the daemon run (`--probe-node`). The benchmark's attacks are few, one every few seconds, and
 * where they fall in the slot moves their p99 by tens of ms; these probes are many (every offset
 * of every head), so the node's own answer time after a head can be compared between runs. Each
 * probe is one `debug_traceCall` (callTracer) at the node's latest block: it adds ~2 ms of the
 * node's time per offset per head to what it measures.
 */
export async function startNodeProbe(options: {
  rpcUrl: string;
  wsUrl: string;
  call: object;
  offsetsMs: readonly number[];
  percentiles: (xs: number[]) => Percentiles;
}): Promise<{ stop(): Promise<Record<string, Percentiles>> }> {
  const rpc = createRpc(options.rpcUrl);
  const took = new Map<number, number[]>(options.offsetsMs.map((o) => [o, []]));
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<Promise<unknown>>();
  let stopped = false;
  const ws = new WebSocket(options.wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data)) as { method?: string };
    if (msg.method !== "eth_subscription" || stopped) return;
    for (const offset of options.offsetsMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        const started = performance.now();
        const p = rpc.call("debug_traceCall", [options.call, "latest", { tracer: "callTracer" }]).then(
          () => took.get(offset)?.push(performance.now() - started),
          () => {}, // a node too busy to answer in time is not a figure
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }, offset);
      timers.add(timer);
    }
  });
  ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      ws.terminate();
      await Promise.allSettled([...inflight]);
      return Object.fromEntries([...took].map(([o, xs]) => [String(o), options.percentiles(xs)]));
    },
  };
}
