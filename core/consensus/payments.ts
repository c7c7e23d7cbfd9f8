// This member's own payments, sent and received: their records and statuses, the sender's waiters, and the
// re-issue of a payment its epoch closed on.
import type { Entry } from '../protocol/entries.js'
import { fromHex, keccak } from '../protocol/bytes.js'
import { hashTransfer } from '../protocol/eip712.js'
import { makeTransfer, type Hex, type ReceiptedTransfer, type Transfer } from '../protocol/types.js'
import { CountedReceipts, type LandedCheckpoint } from './counted-receipts.js'

export type TransferStatus = 'requested' | 'countersigned' | 'receipted' | 'checkpointed' | 'rejected'

export interface TransferRecord {
  transfer: Transfer
  direction: 'out' | 'in'
  status: TransferStatus
  /** The seq of its receipt in the epoch, once receipted. */
  seq?: number
  /** Why it was rejected (a ledger rejection code, or EPOCH_ENDED). */
  reason?: string
  /** How often it was re-issued because its epoch closed first. */
  retries?: number
  /** The leader whose receipt (or checkpoint) it carries. */
  receiptLeader?: number
  /** The id it was first sent with, once re-issued (its re-issues' ids derive from it: see reissueId). */
  firstId?: Hex
}

/** What a landed checkpoint counted, by transfer id: the transfer as receipted, with its seq. */
export type Covered = ReadonlyMap<string, ReceiptedTransfer>

/** Whether `a` and `b` are the same transfer, not only the same id. */
function sameTransfer(a: Transfer, b: Transfer): boolean {
  return a === b || hashTransfer(a) === hashTransfer(b)
}

/**
 * The seq under which `covered` counted transfer `t`; undefined if it did not, also if it counted another transfer
 * under a copy of its id, which does not pay this one.
 */
function coveredSeq(covered: Covered, t: Transfer): number | undefined {
  const tx = covered.get(t.id)
  return tx && sameTransfer(tx.transfer, t) ? tx.seq : undefined
}

/**
 * The id a payment first sent as `firstId` carries on its `retry`-th re-issue. Derived, so the receiver and a
 * restarted sender recognise a re-issue as the same payment and show it once.
 */
export function reissueId(firstId: Hex, retry: number): Hex {
  return `0x${keccak(Buffer.concat([fromHex(firstId, 16), Buffer.from([retry])])).toString('hex', 0, 16)}`
}

export class TransferRejected extends Error {
  override readonly name = 'TransferRejected'
  constructor(
    readonly code: string,
    readonly transfer: Transfer,
  ) {
    super(`transfer ${transfer.id} rejected: ${code}`)
  }
}

/** A payment that misses this many epochs in a row is given up. */
const MAX_REISSUES = 3

interface Waiter {
  resolve: (r: TransferRecord) => void
  reject: (e: Error) => void
}

/** A refusal that ends a payment; one for want of room in the epoch (closing, a party at the cap) does not. */
export function refusedForGood(reason: string): boolean {
  return reason !== 'CLOSED' && reason !== 'CAP_REACHED'
}

export class Payments {
  private readonly records = new Map<string, TransferRecord>()
  private readonly waiters = new Map<string, Waiter>()
  /** Payments asked for while the epoch was closing: they go out with the next one. */
  private held: TransferRecord[] = []
  /**
   * Ids our payments went by before a re-issue: our own entry under one, read back from our log after the re-issue
   * (it comes back late), is that payment, not a new one (found by the soak: a second record, sent again, paid twice).
   */
  private readonly formerIds = new Set<string>()
  /** Payments that did not settle, by the id their next re-issue will carry. */
  private readonly awaiting = new Map<string, TransferRecord>()
  /** Every landed checkpoint, and what recent ones counted once their receipts tell. */
  readonly counted = new CountedReceipts()
  /** Past epochs whose landed checkpoint we know exactly (a dispute we lost): the transfers it counted, by id. */
  private readonly pastCovered = new Map<bigint, Covered>()
  /**
   * Past epochs with payments of ours whose outcome we do not know yet (the checkpoint landed before we read the
   * receipts it counts, or we were away): open, neither refused nor sent again, until its receipts tell.
   */
  private readonly undecided = new Set<bigint>()
  /** Past epochs whose receipts will never tell: their open payments stay open. */
  private readonly unknowable = new Set<bigint>()
  /** Our payments a past epoch's exactly known checkpoint did not count, replayed: they go out again. */
  private knownUnpaid: Array<{ record: TransferRecord; epoch: bigint }> = []

  constructor(
    /** Hears every status change. */
    private readonly changed: (record: TransferRecord) => void,
  ) {}

  get(id: Hex): TransferRecord | undefined {
    return this.records.get(id)
  }

  /** Newest last. */
  all(): TransferRecord[] {
    return [...this.records.values()]
  }

  /** Records a new outgoing payment; the promise settles when it is receipted or refused. */
  open(transfer: Transfer): { record: TransferRecord; done: Promise<TransferRecord> } {
    const record: TransferRecord = { transfer, direction: 'out', status: 'requested' }
    const done = new Promise<TransferRecord>((resolve, reject) => this.waiters.set(transfer.id, { resolve, reject }))
    this.records.set(transfer.id, record)
    return { record, done }
  }

  /** Keeps a payment back until the next epoch begins. */
  hold(record: TransferRecord): void {
    this.held.push(record)
  }

  /** A request we countersigned: a new payment, or the re-issue of one that did not settle. */
  incoming(transfer: Transfer): void {
    const earlier = this.reissueOf(transfer)
    if (!earlier) return void this.records.set(transfer.id, { transfer, direction: 'in', status: 'countersigned' })
    this.rename(earlier, transfer)
    earlier.status = 'countersigned'
    delete earlier.reason
    this.changed(earlier)
  }

  /** The earlier record `transfer` re-issues (same parties and amount, the id its next re-issue carries). */
  private reissueOf(transfer: Transfer): TransferRecord | undefined {
    const r = this.awaiting.get(transfer.id)
    if (!r || r.transfer.from !== transfer.from || r.transfer.to !== transfer.to || r.transfer.amount !== transfer.amount) return undefined
    this.awaiting.delete(transfer.id)
    return r
  }

  /** The record now goes by `transfer` (a re-issue's new id and epoch). */
  private rename(record: TransferRecord, transfer: Transfer): void {
    record.firstId ??= record.transfer.id
    record.retries = (record.retries ?? 0) + 1
    this.records.delete(record.transfer.id)
    this.formerIds.add(record.transfer.id)
    record.transfer = transfer
    this.records.set(transfer.id, record)
  }

  /** Until MAX_REISSUES, a payment that did not settle may come back as its next re-issue. */
  private expectReissue(record: TransferRecord): void {
    const next = (record.retries ?? 0) + 1
    if (next <= MAX_REISSUES) this.awaiting.set(reissueId(record.firstId ?? record.transfer.id, next), record)
  }

  countersigned(id: Hex): void {
    const own = this.records.get(id)
    if (own && own.status === 'requested') this.update(own, 'countersigned')
  }

  /** Receipted by `leader` with the seq `tx` carries. */
  receipted(tx: ReceiptedTransfer, leader: number): void {
    const own = this.records.get(tx.transfer.id)
    // Only our own transfer: a receipt of another under a copy of our id (its sender reusing it; the leader refuses
    // ours then as a duplicate, without a word) does not pay ours.
    if (!own || !sameTransfer(own.transfer, tx.transfer)) return
    // Seen pushed, then again from the log: one change.
    if (own.status === 'receipted' && own.seq === tx.seq && own.receiptLeader === leader) return
    own.seq = tx.seq
    own.receiptLeader = leader
    this.update(own, 'receipted')
  }

  /**
   * A refusal of the transfer `id` with hash `transferHash` in someone's log; false if it is our payment and its
   * author is not one who may judge it (`judges` says, given the receiver's account). Only our own transfer matches:
   * a refusal of someone else's transfer under a copy of our id is not about ours. A refusal for want of room in this
   * epoch (closing, or a party at the cap) leaves it to go out again with the next.
   */
  refused(id: Hex, transferHash: Hex, reason: string, judges: (receiver: string) => boolean): boolean {
    const own = this.records.get(id)
    if (!own || own.direction !== 'out' || own.status === 'receipted' || own.status === 'checkpointed') return true
    if (hashTransfer(own.transfer) !== transferHash.toLowerCase()) return true
    // Heard again (a later leader writes its own refusal of what an earlier one refused: Participant.refuseAgain).
    if (own.status === 'rejected' && own.reason === reason) return true
    if (!judges(own.transfer.to)) return false
    if (refusedForGood(reason)) this.rejected(own, reason)
    return true
  }

  /** Refused by the receiver or the leader for good. */
  rejected(record: TransferRecord, reason: string): void {
    record.status = 'rejected'
    record.reason = reason
    this.changed(record)
    this.waiters.get(record.transfer.id)?.reject(new TransferRejected(reason, record.transfer))
    this.waiters.delete(record.transfer.id)
  }

  /**
   * The checkpoint of `epoch` by `leader`, covering `count` receipts, landed. Final is only what it covers. With
   * `covered` (the transfers it counted, by id, known from a round of ours that holds exactly its receipts, or from the
   * leader's list in a dispute we lost) that is exact: a payment of ours it covers is final even if we never saw its
   * receipt; an incoming one it does not cover ends refused (its sender pays again under a new id) and an outgoing
   * one goes out again with the next epoch. Without it only that leader's receipts below `count` count as final;
   * an outgoing payment it may or may not cover waits, neither refused nor sent again, until that leader's
   * receipts are read up to `count` (`seen`: those we hold already, as its leader wrote them), which tells.
   */
  landed(epoch: bigint, checkpoint: LandedCheckpoint, covered: Covered | undefined, seen: readonly ReceiptedTransfer[] = []): void {
    const { leader, count } = checkpoint
    this.counted.checkpoints.set(epoch, checkpoint)
    for (const r of this.records.values()) {
      if (r.transfer.epoch !== epoch || r.status === 'checkpointed') continue
      if (r.status === 'rejected') {
        // Told refused (by the leader of a round restarted after a view change), yet counted: an earlier round's
        // receipt of it is in the checkpoint. It was paid, and must show so, as settle does for the same case.
        const counted = covered && coveredSeq(covered, r.transfer)
        if (counted !== undefined) this.checkpointed(r, counted, leader)
        continue
      }
      const seq = covered
        ? coveredSeq(covered, r.transfer)
        : r.status === 'receipted' && r.receiptLeader === leader && (r.seq ?? count) < count ? r.seq : undefined
      if (seq !== undefined) {
        r.seq = seq
        r.receiptLeader = leader
        this.update(r, 'checkpointed')
      } else if (r.direction === 'in' && (covered || r.status !== 'receipted' || r.receiptLeader !== leader)) {
        // Not paid in this epoch: its sender may send it again, and we show the re-issue as this payment.
        r.status = 'countersigned'
        if ((r.retries ?? 0) >= MAX_REISSUES) this.rejected(r, 'EPOCH_ENDED')
        else this.expectReissue(r)
      } else if (r.status === 'receipted') {
        r.status = 'countersigned' // its receipt did not count
      }
    }
    if (covered) return
    for (const t of seen) this.counted.receipt(leader, t)
    // One told refused too (not ended with its epoch): a later round's leader may have refused it while this
    // checkpoint counts an earlier round's receipt of it (settle then shows it paid; it never sends such a one again).
    const toldRefused = (r: TransferRecord): boolean => r.status === 'rejected' && r.reason !== 'EPOCH_ENDED'
    if ([...this.records.values()].some((r) => r.transfer.epoch === epoch && (isOpen(r) || toldRefused(r)))) this.undecided.add(epoch)
  }

  /** We lost a dispute to `leader` in `epoch`: its checkpoint counted its answer for us, which its receipts do not tell. */
  lostDispute(epoch: bigint, leader: number): void {
    this.counted.lostDispute(epoch, leader)
  }

  /** The epoch restarts from the last checkpoint: its receipts no longer count. */
  receiptsVoided(epoch: bigint): void {
    for (const r of this.records.values()) if (r.transfer.epoch === epoch && r.status === 'receipted') r.status = 'countersigned'
  }

  /**
   * A new epoch begins: payments held while the last one closed, and those it never receipted, go out in it (once
   * each: a re-issued payment carries the new epoch) through `request`. Not those of an epoch whose checkpoint we
   * cannot match yet (see landed): they go out only once we know it did not count them, or we would pay twice.
   */
  carryOver(epoch: bigint, request: (record: TransferRecord) => void): void {
    this.counted.moveTo(epoch)
    // Never sent yet: it goes out under its own id, dated to the new epoch, not as a re-issue. A re-issue's id
    // derives from the first id, which must be in our log for a restarted node to link the two.
    for (const r of this.held.splice(0)) {
      r.transfer = makeTransfer(r.transfer.id, epoch, r.transfer.from, r.transfer.to, r.transfer.amount)
      request(r)
    }
    const unfinished = [...this.records.values()].filter(
      (r) => r.transfer.epoch < epoch && isOpen(r) && !this.undecided.has(r.transfer.epoch) && !this.unknowable.has(r.transfer.epoch),
    )
    for (const r of unfinished) this.reissue(r, epoch, request)
  }

  /**
   * Past epochs whose outcome the receipts read now tell: a payment of ours the checkpoint counted is final (its
   * sender told); returns those it did not count, to go out again (see resend). Only once our own log has replayed
   * whole (see rememberPast), or a re-issue we made before a restart could be made again.
   */
  settle(): TransferRecord[] {
    const unpaid = this.knownUnpaid.splice(0)
    for (const epoch of this.undecided) {
      const outcome = this.counted.outcome(epoch)
      if (outcome === 'unknown') continue
      this.undecided.delete(epoch)
      if (outcome === 'unknowable') {
        this.unknowable.add(epoch)
        continue
      }
      const leader = this.counted.checkpoints.get(epoch)?.leader ?? -1
      for (const record of this.records.values()) {
        if (record.transfer.epoch !== epoch) continue
        const seq = coveredSeq(outcome, record.transfer)
        if (seq !== undefined) {
          if (record.status !== 'checkpointed') this.checkpointed(record, seq, leader)
        } else unpaid.push({ record, epoch })
      }
    }
    // Still as it ended in that epoch (not re-issued since), open or shown ended unpaid, and not given up on.
    // A record whose next re-issue is on record already (never, when re-issues are linked) is not sent again either.
    const again = (r: TransferRecord, epoch: bigint): boolean =>
      r.transfer.epoch === epoch &&
      (isOpen(r) || (r.direction === 'out' && r.status === 'rejected' && r.reason === 'EPOCH_ENDED')) &&
      (r.retries ?? 0) < MAX_REISSUES &&
      !this.records.has(reissueId(r.firstId ?? r.transfer.id, (r.retries ?? 0) + 1))
    // Known unpaid after its last re-issue: it ends refused now (truly, this time).
    for (const { record, epoch } of unpaid) if (record.transfer.epoch === epoch && isOpen(record) && (record.retries ?? 0) >= MAX_REISSUES) this.rejected(record, 'EPOCH_ENDED')
    return [...new Set(unpaid.filter((u) => again(u.record, u.epoch)).map((u) => u.record))]
  }

  /** Counted by a landed checkpoint at `seq`: final (also one shown as ended unpaid before we knew). */
  private checkpointed(record: TransferRecord, seq: number, leader: number): void {
    record.seq = seq
    record.receiptLeader = leader
    delete record.reason
    this.update(record, 'checkpointed')
  }

  /**
   * A payment of ours that ended unpaid with a past epoch, now known not to be counted by its checkpoint: it goes
   * out again as its next re-issue (which its receiver links to it), in the running `epoch`, or with the next one
   * when the running one takes no payment now (`epoch` undefined).
   */
  resend(record: TransferRecord, epoch: bigint | undefined, request: (record: TransferRecord) => void): void {
    this.awaiting.delete(reissueId(record.firstId ?? record.transfer.id, (record.retries ?? 0) + 1))
    delete record.reason
    if (epoch === undefined) return void this.update(record, 'countersigned') // carryOver sends it
    this.reissue(record, epoch, request)
    this.changed(record)
  }

  /** Our own entry of the running epoch, replayed after a restart. */
  recall(e: Entry): void {
    if (e.type === 'request' && !this.known(e.transfer.id)) {
      const earlier = this.reissueOf(e.transfer)
      if (earlier) this.rename(earlier, e.transfer)
      const record = earlier ?? { transfer: e.transfer, direction: 'out', status: 'requested' }
      record.status = 'requested'
      delete record.reason
      this.records.set(e.transfer.id, record)
    } else if (e.type === 'countersign' && !this.known(e.transfer.id)) {
      this.incoming(e.transfer)
    }
  }

  /** Before the logs replay: what the landed checkpoint of a past epoch covered, when we know it exactly. */
  coveredInPast(epoch: bigint, covered: Covered): void {
    this.pastCovered.set(epoch, covered)
  }

  /**
   * An entry of a finished epoch, replayed after a restart or read late: it rebuilds the history. A payment counts
   * as checkpointed when the leader of that epoch's checkpoint receipted it (a replaced leader's receipts were
   * rolled back). One of ours of a recent epoch not receipted so is open until that leader's receipts are all read
   * (see settle); of an older one, shown as ended with its epoch. Returns our payments found unpaid: they go out
   * again (see resend).
   *
   * Our own log replays whole, in one run, before anyone else's entries: when another member's entry comes, every
   * re-issue we had already made is linked to its payment, and one found unpaid was never sent again.
   */
  rememberPast(e: Entry, author: number, ownEntry: boolean): TransferRecord[] {
    if (ownEntry && (e.type === 'request' || e.type === 'countersign') && !this.known(e.transfer.id)) {
      // The re-issue of an earlier payment is that payment: one record, so the earlier id is never sent again.
      const earlier = this.reissueOf(e.transfer)
      if (earlier) this.rename(earlier, e.transfer)
      const covered = this.pastCovered.get(e.transfer.epoch)
      const seq = covered && coveredSeq(covered, e.transfer)
      if (seq !== undefined) {
        // Counted by the checkpoint though no receipt of it is in any log (the leader hid it, and won our dispute).
        const direction = e.type === 'request' ? 'out' : 'in'
        const record: TransferRecord = earlier ?? { transfer: e.transfer, direction, status: 'checkpointed' }
        Object.assign(record, { status: 'checkpointed', seq })
        delete record.reason
        this.records.set(e.transfer.id, record)
        return []
      }
      // Ended with its epoch unless a receipt of it counted, or it comes back as a re-issue (then it is that one).
      const record: TransferRecord = earlier ?? { transfer: e.transfer, direction: e.type === 'request' ? 'out' : 'in', status: 'rejected' }
      const epoch = e.transfer.epoch
      record.status = 'rejected'
      record.reason = 'EPOCH_ENDED'
      this.records.set(e.transfer.id, record)
      this.expectReissue(record)
      if (record.direction === 'out' && this.pastCovered.has(epoch)) this.knownUnpaid.push({ record, epoch })
      else if (record.direction === 'out' && this.counted.recent(epoch)) {
        record.status = 'requested' // its outcome is not known yet
        delete record.reason
        this.undecided.add(epoch)
      }
    } else if (e.type === 'receipt' && this.counted.checkpoints.get(e.tx.transfer.epoch)?.leader === author) {
      const { tx } = e
      this.counted.receipt(author, tx)
      const cp = this.counted.checkpoints.get(tx.transfer.epoch)
      const record = this.records.get(tx.transfer.id)
      if (record && cp && tx.seq < cp.count && record.status !== 'checkpointed' && hashTransfer(record.transfer) === hashTransfer(tx.transfer)) {
        // Replayed history is rebuilt quietly; a payment someone waits on is told.
        if (record.status !== 'rejected') this.checkpointed(record, tx.seq, author)
        else [record.status, record.seq, record.receiptLeader] = ['checkpointed', tx.seq, author]
        delete record.reason
      }
    }
    // Settled only on another member's entry: by then our own log has replayed whole (see above).
    return ownEntry ? [] : this.settle()
  }

  /** A payment of ours goes, or went, by `id`. */
  private known(id: Hex): boolean {
    return this.records.has(id) || this.formerIds.has(id)
  }

  /** The node stops: nobody waits any longer. */
  abandon(): void {
    for (const w of this.waiters.values()) w.reject(new Error('participant stopped'))
    this.waiters.clear()
  }

  private update(record: TransferRecord, status: TransferStatus): void {
    record.status = status
    this.changed(record)
    if (status === 'receipted' || status === 'checkpointed') {
      this.waiters.get(record.transfer.id)?.resolve(record)
      this.waiters.delete(record.transfer.id)
    }
  }

  /** Re-issues an unreceipted payment in the running epoch (a new id, the same waiter). */
  private reissue(record: TransferRecord, epoch: bigint, request: (record: TransferRecord) => void): void {
    const old = record.transfer.id
    const retry = (record.retries ?? 0) + 1
    if (retry > MAX_REISSUES) return this.rejected(record, 'EPOCH_ENDED')
    const t = record.transfer
    this.rename(record, makeTransfer(reissueId(record.firstId ?? old, retry), epoch, t.from, t.to, t.amount))
    record.status = 'requested'
    const waiter = this.waiters.get(old)
    this.waiters.delete(old)
    if (waiter) this.waiters.set(record.transfer.id, waiter)
    request(record)
  }
}

/** A payment of ours not ended: sent, not receipted or its receipt did not count, not refused. */
function isOpen(r: TransferRecord): boolean {
  return r.direction === 'out' && (r.status === 'requested' || r.status === 'countersigned')
}
