// Entries arriving from the members' logs: each position once, strictly decoded (garbage is blamed on its author),
// and entries that are early (a later epoch, a leader not switched to yet) kept until their moment. An entry pushed
// to us ahead of its log is taken at once if it stands alone (a request, a countersign, a vote...); the same
// position coming later from the log is then passed over, after checking it is the same entry.
import { decodeEntry, EntryDecodeError, entryEpoch, type Entry } from '../protocol/entries.js'
import type { Misbehaviour } from './misbehaviour.js'
import type { Round } from './round.js'

/** Pushed entries taken ahead of their log, held for comparison, at most per author. */
const MAX_AHEAD_OF_LOG = 20_000

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
  /** By author: positions taken from a push before their log brought them, with the bytes pushed. */
  private readonly aheadOfLog = new Map<number, Map<number, Uint8Array>>()

  constructor(private readonly misbehaviour: Misbehaviour) {}

  /**
   * The entry at `position` of `author`'s log; undefined for one seen already, one that does not decode, or one
   * `passOver` takes (looking at its bytes) as not ours to decode.
   */
  take(author: number, position: number, bytes: Uint8Array, passOver?: (bytes: Uint8Array) => boolean): Entry | undefined {
    if (position < (this.nextPosition[author] ?? 0)) return undefined // history replay overlapping live delivery
    this.nextPosition[author] = position + 1
    const pushed = this.aheadOfLog.get(author)
    const copy = pushed?.get(position)
    if (copy) {
      pushed!.delete(position)
      if (Buffer.compare(copy, bytes) !== 0) this.misbehaviour.blame(author, 'pushed an entry its log does not hold')
      return undefined
    }
    return passOver?.(bytes) ? undefined : this.decode(author, bytes)
  }

  /**
   * An entry `author` pushed to us, at `position` of its log: undefined if seen already, undecodable, or too far
   * ahead of its log to hold. One that stands alone is marked taken (its log copy will be passed over); a receipt,
   * proposal or confirmation is returned for a glance only, and still handled when its log brings it in order.
   */
  takePushed(author: number, position: number, bytes: Uint8Array): Entry | undefined {
    const next = this.nextPosition[author] ?? 0
    let ahead = this.aheadOfLog.get(author)
    if (position < next || ahead?.has(position) || position >= next + MAX_AHEAD_OF_LOG || (ahead?.size ?? 0) >= MAX_AHEAD_OF_LOG) return undefined
    const entry = this.decode(author, bytes)
    if (!entry || !standsAlone(entry)) return entry
    if (!ahead) this.aheadOfLog.set(author, (ahead = new Map()))
    ahead.set(position, bytes)
    return entry
  }

  /** Decodes an entry of `author` (also one kept undecoded until now); undefined, and blamed, if it does not decode. */
  decode(author: number, bytes: Uint8Array): Entry | undefined {
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

/**
 * Entries whose effect does not depend on the entries their author wrote before them: a receipt must follow the
 * leader's earlier receipts, and a proposal or confirmation the round's receipts.
 */
function standsAlone(e: Entry): boolean {
  return !leaderOnly(e)
}

/** Entries only the leader of the running round may write. */
function leaderOnly(e: Entry): boolean {
  return e.type === 'receipt' || e.type === 'proposal' || e.type === 'confirm'
}
