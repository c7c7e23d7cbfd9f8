// How a participant's messages travel: append to my own log; receive every member's log entries, each log in
// order. Over Hypercore and Hyperswarm in the network layer (core/log); in memory for tests (core/testing).

export type EntryHandler = (author: number, position: number, entry: Uint8Array) => void

export interface Transport {
  /** Appends to this member's own log; resolves once the entry is stored. */
  append(entries: readonly Uint8Array[]): Promise<void>
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
