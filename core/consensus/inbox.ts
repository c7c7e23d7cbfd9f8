// Entries arriving from the members' logs: each position once, strictly decoded (garbage is blamed on its author),
// and entries that are early (a later epoch, a leader not switched to yet) kept until their moment.
import { decodeEntry, EntryDecodeError, type Entry } from '../protocol/entries.js'
import type { Misbehaviour } from './misbehaviour.js'
import type { Round } from './round.js'

/** Early entries kept at most. */
const MAX_PENDING = 100_000

export interface Arrival {
  author: number
  entry: Entry
}

export class Inbox {
  private readonly nextPosition: number[] = []
  private pending: Arrival[] = []

  constructor(private readonly misbehaviour: Misbehaviour) {}

  /** The entry at `position` of `author`'s log; undefined for one seen already or one that does not decode. */
  take(author: number, position: number, bytes: Uint8Array): Entry | undefined {
    if (position < (this.nextPosition[author] ?? 0)) return undefined // history replay overlapping live delivery
    this.nextPosition[author] = position + 1
    try {
      return decodeEntry(bytes)
    } catch (err) {
      if (!(err instanceof EntryDecodeError)) throw err
      this.misbehaviour.blame(author, err.message)
      return undefined
    }
  }

  /**
   * Whether a current or later entry of `author` is for `round` now, for later (a later epoch, or a leader we have
   * not switched to yet), or never (a replaced leader's late word).
   */
  timing(author: number, e: Entry, round: Round, excluded: ReadonlySet<number>): 'now' | 'later' | 'never' {
    const byOtherLeader = leaderOnly(e) && author !== round.leader
    if (byOtherLeader && excluded.has(author)) return 'never'
    return entryEpoch(e) > round.epoch || byOtherLeader ? 'later' : 'now'
  }

  /** Passes over the entry at `position` of `author`'s log unread (its author is muted). */
  skip(author: number, position: number): void {
    this.nextPosition[author] = Math.max(this.nextPosition[author] ?? 0, position + 1)
  }

  /** Keeps an early entry until `drain`. */
  defer(author: number, entry: Entry): void {
    if (this.pending.length < MAX_PENDING) this.pending.push({ author, entry })
  }

  /** The entries kept so far, handed back once. */
  drain(): Arrival[] {
    const kept = this.pending
    this.pending = []
    return kept
  }
}

/** The epoch an entry belongs to. */
export function entryEpoch(e: Entry): bigint {
  switch (e.type) {
    case 'request':
    case 'countersign':
      return e.transfer.epoch
    case 'receipt':
      return e.tx.transfer.epoch
    case 'proposal':
      return e.checkpoint.epoch
    default:
      return e.epoch
  }
}

/** Entries only the leader of the running round may write. */
function leaderOnly(e: Entry): boolean {
  return e.type === 'receipt' || e.type === 'proposal' || e.type === 'confirm'
}
