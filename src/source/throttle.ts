/**
 * Aggregates a burst of events into at most one report per `intervalMs`, with the count and a few
 * samples. Used for queue evictions and malformed messages: under a flood each one is still
 * counted and reported (never silent), but the log stays readable and cheap.
 */
export type ThrottledReport = {
  record(sample: string): void;
  /** Reports what is pending now and cancels the timer (call on stop). */
  flush(): void;
};

export function createThrottledReport(options: {
  intervalMs: number;
  maxSamples: number;
  now: () => number;
  report: (count: number, samples: readonly string[]) => void;
}): ThrottledReport {
  let count = 0;
  let samples: string[] = [];
  let lastReport = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (count === 0) return;
    const [n, s] = [count, samples];
    count = 0;
    samples = [];
    lastReport = options.now();
    options.report(n, s);
  }

  return {
    record(sample) {
      count++;
      if (samples.length < options.maxSamples) samples.push(sample);
      if (timer !== undefined) return;
      const wait = lastReport + options.intervalMs - options.now();
      if (wait <= 0) {
        flush();
        return;
      }
      timer = setTimeout(flush, wait);
      // Only a report is pending: it must not keep a stopping process alive.
      timer.unref();
    },
    flush,
  };
}
