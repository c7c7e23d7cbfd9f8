// Entries arriving from the members' logs: each position once, strictly decoded (garbage is blamed on its author),
// and entries that are early (a later epoch, a leader not switched to yet) kept until their moment.
import { decodeEntry, EntryDecodeError, entryEpoch, type Entry } from '../protocol/entries.js'
import type { Misbehaviour } from './misbehaviour.js'
import type { Round } from './round.js'

/** Early entries kept at most, in all and per author (more than an epoch's receipts of a 64-member channel). */
const MAX_PENDING = 100_000
const MAX_PENDING_PER_AUTHOR = 10_000

export interface Arrival {
  author: number
  entry: Entry
}

export class Inbox {
  private readonly nextPosition: number[] = []
  private pending: Arrival[] = []
  private pendingBy = new Map<number, number>()

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

  /**
   * Keeps an early entry until `drain`: one of the running epoch (`running`) or the next. False, and nothing kept,
   * for one dated further ahead (no honest member is two epochs ahead of the chain we follow) or beyond the author's
   * share: a member flooding entries for later cannot fill our memory.
   */
  defer(author: number, entry: Entry, running: bigint): boolean {
    const held = this.pendingBy.get(author) ?? 0
    if (entryEpoch(entry) > running + 1n || held >= MAX_PENDING_PER_AUTHOR || this.pending.length >= MAX_PENDING) return false
    this.pendingBy.set(author, held + 1)
    this.pending.push({ author, entry })
    return true
  }

  /** The entries kept so far, handed back once. */
  drain(): Arrival[] {
    const kept = this.pending
    this.pending = []
    this.pendingBy = new Map()
    return kept
  }
}

/** Entries only the leader of the running round may write. */
function leaderOnly(e: Entry): boolean {
  return e.type === 'receipt' || e.type === 'proposal' || e.type === 'confirm'
}
