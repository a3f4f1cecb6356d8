import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { postJson } from "../src/internal/http-post.ts";

// The JSON-RPC transport of the hot path: kept-alive sockets, a deadline, one retry when a
// kept-alive socket turns out to be closed.
describe("postJson", () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
  /** A server whose handler sees the request body and how many requests its connection carried. */
  async function serve(
    handler: (body: string, nth: number, req: http.IncomingMessage, res: http.ServerResponse) => void,
  ) {
    const perSocket = new WeakMap<object, number>();
    const server = http.createServer((req, res) => {
      const nth = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, nth);
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => handler(Buffer.concat(chunks).toString(), nth, req, res));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("posts the body and answers the status and text, reusing the connection", async () => {
    const seen: number[] = [];
    const url = await serve((body, nth, req, res) => {
      seen.push(nth);
      expect(req.headers["content-type"]).toBe("application/json");
      res.writeHead(body === "[]" ? 400 : 200).end(`echo ${body}`);
    });
    expect(await postJson(url, '{"a":1}', 1_000)).toEqual({ status: 200, text: 'echo {"a":1}' });
    expect(await postJson(url, "[]", 1_000)).toEqual({ status: 400, text: "echo []" });
    expect(seen).toEqual([1, 2]); // the second request came on the kept-alive socket
  });

  it("gives up at its deadline", async () => {
    const url = await serve(() => {}); // never answers
    const started = performance.now();
    await expect(postJson(url, "{}", 150)).rejects.toThrow(/within 150 ms/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it("sends again on a new socket when a kept-alive one was closed, but not on a fresh one", async () => {
    let requests = 0;
    const url = await serve((_body, nth, req, res) => {
      requests++;
      // The connection's second request finds it closed, as when the server timed it out.
      if (nth === 2) req.socket.destroy();
      else res.end(`ok ${nth}`);
    });
    expect((await postJson(url, "{}", 1_000)).text).toBe("ok 1");
    expect((await postJson(url, "{}", 1_000)).text).toBe("ok 1"); // on a new connection
    expect(requests).toBe(3);

    const refusing = await serve((_body, _nth, req) => req.socket.destroy());
    await expect(postJson(refusing, "{}", 1_000)).rejects.toThrow();
  });

  it("rejects what is not an http(s) URL", async () => {
    await expect(postJson("ws://127.0.0.1:1", "{}", 100)).rejects.toThrow(/not an http/);
    await expect(postJson("nonsense", "{}", 100)).rejects.toThrow();
  });
});
