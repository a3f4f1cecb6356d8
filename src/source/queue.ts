/**
 * A bounded priority queue: highest priority first, first-in first-out among equal priorities.
 *
 * When it is full, the lowest-priority item goes: the oldest one of the lowest priority, or the
 * incoming item itself when it ranks below everything queued. Dropping the oldest among equals
 * (rather than the newcomer) favours freshness: a transaction that has waited longest is the most
 * likely to be mined already, while a fresh one may still be stoppable.
 *
 * Items are kept in one FIFO bucket per distinct priority, with the priorities in a sorted array.
 * Pop and evict touch only the ends; only a never-seen priority costs a binary-search insert.
 * Priorities are usually a handful of small integers, so this is simpler and faster than a heap.
 */
export type PriorityQueue<T> = {
  /** Adds `item`; returns the item evicted to make room (possibly `item` itself), if any. */
  push(item: T, priority: number): T | undefined;
  /** Removes and returns the highest-priority item (oldest among equals). */
  pop(): T | undefined;
  /** The highest priority queued, if any. */
  topPriority(): number | undefined;
  /** Removes everything and returns how many items there were. */
  clear(): number;
  readonly size: number;
  readonly capacity: number;
};

export function createPriorityQueue<T>(capacity: number): PriorityQueue<T> {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError("capacity must be a positive integer");
  const buckets = new Map<number, Fifo<T>>();
  /** Distinct priorities with a non-empty bucket, ascending. */
  const priorities: number[] = [];
  let size = 0;

  function take(priority: number | undefined): T | undefined {
    if (priority === undefined) return undefined;
    const bucket = buckets.get(priority);
    const item = bucket?.shift();
    if (bucket === undefined || item === undefined) return undefined;
    size--;
    if (bucket.length === 0) {
      buckets.delete(priority);
      priorities.splice(lowerBound(priorities, priority), 1);
    }
    return item;
  }

  return {
    push(item, priority) {
      if (Number.isNaN(priority)) throw new RangeError("priority must be a number, got NaN");
      let evicted: T | undefined;
      if (size >= capacity) {
        const lowest = priorities[0];
        if (lowest === undefined || priority < lowest) return item;
        evicted = take(lowest);
      }
      let bucket = buckets.get(priority);
      if (bucket === undefined) {
        bucket = new Fifo<T>();
        buckets.set(priority, bucket);
        priorities.splice(lowerBound(priorities, priority), 0, priority);
      }
      bucket.push(item);
      size++;
      return evicted;
    },
    pop() {
      return take(priorities[priorities.length - 1]);
    },
    topPriority() {
      return priorities[priorities.length - 1];
    },
    clear() {
      const n = size;
      buckets.clear();
      priorities.length = 0;
      size = 0;
      return n;
    },
    get size() {
      return size;
    },
    capacity,
  };
}

/** Index of the first element >= `x` in ascending `sorted`. */
function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? Number.POSITIVE_INFINITY) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** An array-backed FIFO with O(1) amortised shift (Array#shift is O(n)). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    // Compact once the dead prefix dominates, so a long-lived bucket does not grow forever.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
