import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createPriorityGate } from "../src/internal/priority-gate.ts";

describe("priority gate", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const gate = (options = {}) => createPriorityGate({ now: () => Date.now(), ...options });
  /** Whether `p` has settled once pending callbacks have run. */
  const settled = async (p: Promise<void>) => {
    let done = false;
    void p.then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    return done;
  };

  it("lets ordinary work through when nothing urgent runs", async () => {
    expect(await settled(gate().clear())).toBe(true);
  });

  it("holds ordinary work until every urgent job has ended", async () => {
    const g = gate();
    const endA = g.hold();
    const endB = g.hold();
    const waiting = g.clear();
    expect(await settled(waiting)).toBe(false);
    endA();
    endA(); // a second end of the same hold changes nothing
    expect(await settled(waiting)).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    endB();
    expect(await settled(waiting)).toBe(true);
    expect(g.stats()).toMatchObject({ holds: 2, waits: 1, waitedMs: 20, heldMs: 20, expired: 0 });
  });

  it("ends a hold its job never ended, after its time limit", async () => {
    const g = gate({ maxHoldMs: 50 });
    g.hold();
    const waiting = g.clear();
    await vi.advanceTimersByTimeAsync(49);
    expect(await settled(waiting)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(waiting)).toBe(true);
    expect(g.stats().expired).toBe(1);
  });

  it("refuses holds once they took their share of the window, and grants them again later", async () => {
    const g = gate({ maxHoldMs: 100, windowMs: 1_000, maxShare: 0.3 });
    for (let i = 0; i < 3; i++) {
      const end = g.hold();
      await vi.advanceTimersByTimeAsync(100);
      end();
    }
    // 300 ms of the last 1,000 held: the next urgent job runs without holding anyone.
    g.hold();
    expect(await settled(g.clear())).toBe(true);
    expect(g.stats().refused).toBe(1);
    // Once the window has moved past the first holds, a hold is granted again.
    await vi.advanceTimersByTimeAsync(800);
    const end = g.hold();
    expect(await settled(g.clear())).toBe(false);
    end();
    expect(g.stats().holds).toBe(4);
  });
});
