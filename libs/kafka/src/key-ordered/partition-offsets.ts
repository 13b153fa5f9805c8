/**
 * Offsets of one partition taken into processing (Confluent Parallel Consumer's "offset map"): the
 * offset that may be committed is that of the lowest record not yet finished, or one past the highest
 * taken when every record taken is finished. Records are taken in offset order (as fetched).
 */
export class PartitionOffsets {
  /** Offsets taken, ascending; entries before `head` are finished and forgotten. */
  private readonly taken: bigint[] = [];
  private readonly finished = new Set<bigint>();
  private head = 0;
  private highest?: bigint;

  /** Records taken and not finished (what `LOADER_MAX_UNCOMMITTED` bounds). */
  get unfinished(): number {
    return this.taken.length - this.head - this.finished.size;
  }

  /** The next offset expected from the fetcher (one past the highest taken). */
  get next(): bigint | undefined {
    return this.highest === undefined ? undefined : this.highest + 1n;
  }

  /** Takes a record; offsets at or below the highest taken are ignored (refetched). Returns whether taken. */
  take(offset: bigint): boolean {
    if (this.highest !== undefined && offset <= this.highest) return false;
    this.taken.push(offset);
    this.highest = offset;
    return true;
  }

  /** Marks a record finished (durable). Unknown offsets are ignored. */
  finish(offset: bigint): void {
    if (this.highest === undefined || offset > this.highest) return;
    if (this.head < this.taken.length && offset < this.taken[this.head]) return;
    this.finished.add(offset);
    while (this.head < this.taken.length && this.finished.has(this.taken[this.head])) {
      this.finished.delete(this.taken[this.head]);
      this.head += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.taken.length) {
      this.taken.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The offset to commit: lowest unfinished, else one past the highest taken; undefined before any. */
  committable(): bigint | undefined {
    if (this.head < this.taken.length) return this.taken[this.head];
    return this.next;
  }
}
