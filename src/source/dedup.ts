/**
 * Remembers the most recently seen transaction hashes, up to `capacity`, so memory stays bounded
 * however long the daemon runs. A hash seen again moves back to the newest end: a transaction
 * that keeps being re-announced (Vigil's local builder re-sends public transactions into the pool
 * each time it builds a block) is never forgotten while it is still around.
 *
 * A JS `Set` iterates in insertion order, so delete + add is a move-to-newest and the first value
 * is the least recently seen one: an O(1) LRU without a linked list of our own.
 */
export type SeenHashes = {
  /** Records `hash`; true when it was not remembered (first sight, or forgotten long ago). */
  add(hash: string): boolean;
  has(hash: string): boolean;
  readonly size: number;
};

export function createSeenHashes(capacity: number): SeenHashes {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError("capacity must be a positive integer");
  const seen = new Set<string>();
  return {
    add(hash) {
      if (seen.delete(hash)) {
        seen.add(hash);
        return false;
      }
      seen.add(hash);
      if (seen.size > capacity) {
        const oldest = seen.values().next();
        if (!oldest.done) seen.delete(oldest.value);
      }
      return true;
    },
    has(hash) {
      return seen.has(hash);
    },
    get size() {
      return seen.size;
    },
  };
}
