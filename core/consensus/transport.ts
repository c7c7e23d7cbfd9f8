// How a participant's messages travel: append to my own log; receive every member's log entries, each log in
// order. Over Hypercore and Hyperswarm in the network layer (core/log); in memory for tests (core/testing). A
// transport may also push an entry, once stored, straight to the members that must act on it now (DESIGN.md
// section 3): such an entry arrives `pushed`, possibly before the entries written before it, and arrives again, in
// order, from the log.

export type EntryHandler = (author: number, position: number, entry: Uint8Array, pushed?: boolean) => void

export interface Transport {
  /**
   * Appends to this member's own log; resolves once the entries are stored. `recipients[i]`, when given, names the
   * members entry i is pushed to once stored (a transport that cannot push ignores it). `soon`: others read these
   * entries from the log in order and should have them without delay (a transport may otherwise gather entries
   * into larger blocks).
   */
  append(entries: readonly Uint8Array[], recipients?: ReadonlyArray<readonly number[]>, soon?: boolean): Promise<void>
  /**
   * Delivers every log's entries from the start, each log in order. The own log's stored entries come first, all
   * in one synchronous run, so a restarted member knows everything it already said before it reacts to any of it
   * or hears anyone else. Returns an unsubscribe.
   */
  subscribe(handler: EntryHandler): () => void
  /** Stops delivering entries until `resume` (the reader is behind); a transport that cannot may ignore it. */
  pause?(): void
  resume?(): void
}
