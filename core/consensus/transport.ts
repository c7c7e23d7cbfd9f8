// How a participant's messages travel: append to my own log; receive every member's log entries, each log in
// order. Over Hypercore and Hyperswarm in the network layer; over MemoryBus in tests and benchmarks.

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
}

/**
 * Every member's log in memory, delivered asynchronously (never inside append) in per-log order. A late subscriber
 * first receives the history, as a restarted node replaying its logs would.
 */
export class MemoryBus {
  private readonly logs: Uint8Array[][] = []
  private readonly handlers = new Set<EntryHandler>()

  /** The transport of member `index`. */
  connect(index: number): Transport {
    return {
      append: async (entries) => {
        const log = (this.logs[index] ??= [])
        for (const entry of entries) {
          const position = log.length
          log.push(entry)
          setImmediate(() => {
            for (const h of this.handlers) h(index, position, entry)
          })
        }
      },
      subscribe: (handler) => {
        const history = [...this.logs.entries()].map(([author, log]) => ({ author, log: [...(log ?? [])] }))
        const ordered = [...history.filter((h) => h.author === index), ...history.filter((h) => h.author !== index)]
        this.handlers.add(handler)
        setImmediate(() => ordered.forEach(({ author, log }) => log.forEach((e, i) => handler(author, i, e))))
        return () => {
          this.handlers.delete(handler)
        }
      },
    }
  }

  /** Length of member `index`'s log (for tests). */
  length(index: number): number {
    return this.logs[index]?.length ?? 0
  }
}
