// What this member writes to its own trade log, each decision once: a decision the log already holds (seen again
// after a restart) is not written twice. Decisions are remembered per epoch and forgotten once the epoch is over
// (a finished epoch's entries are never answered again), so the memory does not grow with the channel's history.
import { encodeEntry, entryEpoch, type Entry } from '../protocol/entries.js'
import type { Hex } from '../protocol/types.js'
import type { Transport } from './transport.js'
import { errorMessage } from '../util/error-message.js'

export class OwnLog {
  /** Keys of the entries in our own log (see entryKey), by epoch, from `from` on. */
  private readonly said = new Map<bigint, Set<string>>()
  private from = 0n
  private closed = false

  constructor(
    private readonly transport: Transport,
    private readonly log: (line: string) => void,
    /** The members an entry is pushed to once stored: those that must act on it now. */
    private readonly recipients: (e: Entry) => readonly number[] = () => [],
  ) {}

  /** Notes an entry the log already holds (our own, replayed or delivered back). */
  remember(e: Entry): void {
    const said = this.keysOf(entryEpoch(e))
    said?.add(entryKey(e))
    if (said && (e.type === 'countersign' || e.type === 'reject')) said.add(answerKey(e.type === 'reject' ? e.id : e.transfer.id))
  }

  /** Whether we have answered a request of `epoch` (countersigned or refused it): a receiver answers once. */
  answered(epoch: bigint, transferId: Hex): boolean {
    return this.said.get(epoch)?.has(answerKey(transferId)) ?? false
  }

  /** The epochs before `epoch` are over: their decisions are forgotten, and no longer noted. */
  forgetBefore(epoch: bigint): void {
    this.from = epoch
    for (const e of this.said.keys()) if (e < epoch) this.said.delete(e)
  }

  private keysOf(epoch: bigint): Set<string> | undefined {
    if (epoch < this.from) return undefined
    let keys = this.said.get(epoch)
    if (!keys) this.said.set(epoch, (keys = new Set()))
    return keys
  }

  /** Appends the entries not written yet, as one batch, each pushed to the members `recipients` names for it. */
  append(...entries: Entry[]): void {
    this.write(entries, this.recipients)
  }

  /**
   * Appends a refusal not written yet, pushed to `to` (the parties it concerns, which a refusal does not name: the
   * others read it from our log in their time).
   */
  refuse(e: Extract<Entry, { type: 'reject' }>, to: readonly number[]): void {
    this.write([e], () => to)
  }

  private write(entries: Entry[], recipients: (e: Entry) => readonly number[]): void {
    if (this.closed) return
    const fresh = entries.filter((e) => {
      if (this.keysOf(entryEpoch(e))?.has(entryKey(e))) return false
      this.remember(e)
      return true
    })
    if (fresh.length === 0) return
    // A proposal or confirmation is handled by the others in log order, after the round's receipts: they wait for it.
    const soon = fresh.some((e) => e.type === 'proposal' || e.type === 'confirm')
    this.transport.append(fresh.map(encodeEntry), fresh.map(recipients), soon).catch((err: unknown) => {
      this.log(`append failed: ${errorMessage(err)}`)
    })
  }

  /** Writes nothing more (the participant stopped). */
  close(): void {
    this.closed = true
  }
}

/** A request's receiver answers it once, countersigned or refused, whichever transfer comes under its id. */
const answerKey = (id: Hex): string => `answer:${id}`

/** Identifies an entry's decision, so the same decision is never written twice. */
function entryKey(e: Entry): string {
  switch (e.type) {
    case 'request':
      return `request:${e.transfer.id}`
    case 'countersign':
      return `countersign:${e.transfer.id}`
    case 'receipt':
      return `receipt:${e.tx.transfer.id}:${e.tx.seq}`
    case 'reject':
      // With the transfer: a leader refuses each transfer that comes under one id (a sender reusing it), so that a
      // receiver that countersigned the later one hears it was refused.
      return `reject:${e.id}:${e.transfer.toLowerCase()}`
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
