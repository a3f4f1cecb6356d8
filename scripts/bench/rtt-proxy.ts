import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP JSON-RPC proxy that adds a fixed delay before forwarding each request, as a remote node
 * would have. Forks fetch state lazily, so this is what a cold fork pays per state read.
 */
export async function startRttProxy(
  target: string,
  rttMs: number,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      setTimeout(async () => {
        try {
          const r = await fetch(target, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: Buffer.concat(chunks),
          });
          const body = Buffer.from(await r.arrayBuffer());
          res.writeHead(r.status, { "content-type": "application/json" }).end(body);
        } catch {
          res.writeHead(502).end();
        }
      }, rttMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
