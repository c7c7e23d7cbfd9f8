// What this member writes to its own trade log, each decision once: a decision the log already holds (seen again
// after a restart) is not written twice.
import { encodeEntry, type Entry } from '../protocol/entries.js'
import type { Hex } from '../protocol/types.js'
import type { Transport } from './transport.js'
import { errorMessage } from '../util/error-message.js'

export class OwnLog {
  /** Keys of every entry in our own log (see entryKey). */
  private readonly said = new Set<string>()
  private closed = false

  constructor(
    private readonly transport: Transport,
    private readonly log: (line: string) => void,
  ) {}

  /** Notes an entry the log already holds (our own, replayed or delivered back). */
  remember(e: Entry): void {
    this.said.add(entryKey(e))
  }

  /** Whether we have answered a request (countersigned or refused it): a receiver answers once. */
  answered(transferId: Hex): boolean {
    return this.said.has(countersignKey(transferId)) || this.said.has(rejectKey(transferId))
  }

  /** Appends the entries not written yet, as one batch. */
  append(...entries: Entry[]): void {
    if (this.closed) return
    const fresh = entries.filter((e) => {
      const key = entryKey(e)
      if (this.said.has(key)) return false
      this.said.add(key)
      return true
    })
    if (fresh.length === 0) return
    this.transport.append(fresh.map(encodeEntry)).catch((err: unknown) => {
      this.log(`append failed: ${errorMessage(err)}`)
    })
  }

  /** Writes nothing more (the participant stopped). */
  close(): void {
    this.closed = true
  }
}

/** The keys of the two answers to a request: its receiver says one or the other, once. */
const countersignKey = (id: Hex): string => `countersign:${id}`
const rejectKey = (id: Hex): string => `reject:${id}` // a leader's refusal is the one answer from it too

/** Identifies an entry's decision, so the same decision is never written twice. */
function entryKey(e: Entry): string {
  switch (e.type) {
    case 'request':
      return `request:${e.transfer.id}`
    case 'countersign':
      return countersignKey(e.transfer.id)
    case 'receipt':
      return `receipt:${e.tx.transfer.id}:${e.tx.seq}`
    case 'reject':
      return rejectKey(e.id)
    case 'proposal':
      return `proposal:${e.checkpoint.epoch}:${e.checkpoint.leader}`
    case 'vote':
    case 'view-change':
      return `${e.type}:${e.epoch}:${e.leader}`
    case 'confirm':
      return `confirm:${e.epoch}`
    case 'exit':
      return `exit:${e.epoch}`
  }
}
