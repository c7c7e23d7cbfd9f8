// Test and benchmark support: every member's log in memory, behind the Transport a participant uses.
import type { EntryHandler, Transport } from '../consensus/transport.js'

/**
 * Every member's log in memory, delivered asynchronously (never inside append) in per-log order. A late subscriber
 * first receives the history, as a restarted node replaying its logs would. An entry appended with recipients is
 * also pushed to them, ahead of its log copy, as the swarm transport does.
 */
export class MemoryBus {
  private readonly logs: Uint8Array[][] = []
  /** Each subscriber's member, and the log lengths its history covered: live delivery starts after them. */
  private readonly handlers = new Map<EntryHandler, { member: number; from: number[] }>()

  /** The transport of member `index`. */
  connect(index: number): Transport {
    return {
      append: async (entries, recipients) => {
        const log = (this.logs[index] ??= [])
        const first = log.length
        log.push(...entries)
        // The batch's pushes first, then its log copies: a pushed entry overtakes the ones written before it.
        entries.forEach((entry, k) => {
          const to = recipients?.[k] ?? []
          setImmediate(() => {
            for (const [h, { member, from }] of this.handlers) {
              if (to.includes(member) && first + k >= (from[index] ?? 0)) h(index, first + k, entry, true)
            }
          })
        })
        entries.forEach((entry, k) => {
          setImmediate(() => {
            // An entry appended before a subscriber came reaches it with the history, in order, not ahead of it.
            for (const [h, { from }] of this.handlers) if (first + k >= (from[index] ?? 0)) h(index, first + k, entry)
          })
        })
      },
      subscribe: (handler) => {
        const history = [...this.logs.entries()].map(([author, log]) => ({ author, log: [...(log ?? [])] }))
        const ordered = [...history.filter((h) => h.author === index), ...history.filter((h) => h.author !== index)]
        this.handlers.set(handler, { member: index, from: history.map((h) => h.log.length) })
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
