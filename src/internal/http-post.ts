import http from "node:http";
import https from "node:https";

/**
 * POSTs a JSON body and reads the whole answer as text, over kept-alive connections (one agent
 * per process and scheme). The hot path's JSON-RPC goes through here rather than `fetch`: the
 * daemon sends hundreds of small requests a second to the node and its forks, and a CPU profile
 * at 200 tx/s showed `fetch`'s web streams, request cloning and abort signals costing more than
 * the socket writes of the requests themselves.
 *
 * Rejects on a transport failure or after `timeoutMs` without a complete answer; any HTTP status
 * resolves (the caller decides what a non-JSON or error answer means). A request that fails on a
 * kept-alive socket the server had just closed, before any answer, is sent once more on a new one.
 */
export function postJson(
  url: string,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  let target: URL;
  try {
    target = new URL(url);
  } catch (error) {
    return Promise.reject(error);
  }
  const secure = target.protocol === "https:";
  if (!secure && target.protocol !== "http:")
    return Promise.reject(new Error(`not an http(s) URL: ${target.protocol}`));
  const payload = Buffer.from(body);
  const deadline = performance.now() + timeoutMs;
  const attempt = (again: boolean): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      let answered = false;
      const req = (secure ? https : http).request(
        target,
        {
          method: "POST",
          agent: secure ? httpsAgent : httpAgent,
          headers: { "content-type": "application/json", "content-length": payload.length },
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
          });
          res.on("error", fail);
          res.on("aborted", () => fail(new Error("the answer was cut off")));
        },
      );
      function fail(error: Error) {
        clearTimeout(timer);
        req.destroy();
        const stale = req.reusedSocket && !answered && (error as NodeJS.ErrnoException).code === "ECONNRESET";
        if (stale && again && performance.now() < deadline) resolve(attempt(false));
        else reject(error);
      }
      const timer = setTimeout(
        () => fail(new Error(`no complete answer within ${timeoutMs} ms`)),
        Math.max(0, deadline - performance.now()),
      );
      req.on("error", fail);
      req.end(payload);
    });
  return attempt(true);
}

// Kept-alive sockets: a new TCP connection per request costs the kernel's work each time. An idle
// socket is closed after 4 s, before the 5 s a Node server keeps one (the state cache's forks
// talk to such a server); `maxSockets` is unbounded as with fetch: the caller bounds concurrency.
const AGENT = { keepAlive: true, keepAliveMsecs: 1_000, timeout: 4_000, scheduling: "lifo" } as const;
const httpAgent = new http.Agent(AGENT);
const httpsAgent = new https.Agent(AGENT);
