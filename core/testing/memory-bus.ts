// Test and benchmark support: every member's log in memory, behind the Transport a participant uses.
import type { EntryHandler, Transport } from '../consensus/transport.js'

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

  /** The entry at `position` of member `index`'s log (for tests). */
  entry(index: number, position: number): Uint8Array {
    const e = this.logs[index]?.[position]
    if (!e) throw new RangeError(`member ${index}'s log has no entry ${position}`)
    return e
  }

  /** Length of member `index`'s log (for tests). */
  length(index: number): number {
    return this.logs[index]?.length ?? 0
  }
}
