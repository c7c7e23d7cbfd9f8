// What the landed checkpoint of a recent past epoch counted, told by its leader's receipts: once those read (from
// the leader's log, or held by our own round) add up to the checkpoint's count and root, the transfers it counted
// are known exactly. Until then a payment of ours of that epoch has no known outcome. A checkpoint of a dispute we
// lost counted the leader's answer for us, which its root does not show: its receipts never tell.
import { CHANNEL_LIMITS } from '../chain/channel-limits.js'
import { receiptLeaf } from '../protocol/eip712.js'
import { merkleRoot } from '../protocol/merkle.js'
import type { Hex, ReceiptedTransfer } from '../protocol/types.js'

/** A landed checkpoint: whose receipts of its epoch it counted, how many, and their Merkle root. */
export interface LandedCheckpoint {
  leader: number
  count: number
  root: Hex
}

/** Epochs before the running one whose receipts are kept: an outcome not known by then never will be. */
const RECENT_EPOCHS = 8n
/** No honest checkpoint counts more (every member at the transfer cap); a larger count is never read up to. */
export const MAX_COUNT = CHANNEL_LIMITS.maxMembers * CHANNEL_LIMITS.maxTxCap

/** The counted transfers by id; not known yet; or never to be known from receipts. */
export type Outcome = ReadonlyMap<string, ReceiptedTransfer> | 'unknown' | 'unknowable'

export class CountedReceipts {
  /** The landed checkpoint of each checkpointed epoch. */
  readonly checkpoints = new Map<bigint, LandedCheckpoint>()
  /** Recent epochs: their counted leader's receipts read so far, by seq. */
  private readonly read = new Map<bigint, Map<number, ReceiptedTransfer>>()
  /** Epochs of a dispute we lost, with the leader we lost to. */
  private readonly lost = new Map<bigint, number>()
  private running = 0n

  /** The running epoch is now `epoch`: receipts of epochs too old to matter are dropped. */
  moveTo(epoch: bigint): void {
    this.running = epoch
    for (const e of this.read.keys()) if (!this.recent(e)) this.read.delete(e)
  }

  /** Whether an outcome of `epoch` may still be learnt from receipts (it is among the last few). */
  recent(epoch: bigint): boolean {
    return epoch >= this.running - RECENT_EPOCHS
  }

  /** We lost a dispute to `leader` in `epoch`: a checkpoint of that leader counted its answer for us, not its root. */
  lostDispute(epoch: bigint, leader: number): void {
    this.lost.set(epoch, leader)
  }

  /** The leader we lost a dispute to in `epoch`, if we did. */
  lostTo(epoch: bigint): number | undefined {
    return this.lost.get(epoch)
  }

  /** A receipt `author` wrote: kept if it is within the count of a recent checkpoint that `author` led. */
  receipt(author: number, tx: ReceiptedTransfer): void {
    const epoch = tx.transfer.epoch
    const cp = this.checkpoints.get(epoch)
    if (!cp || cp.leader !== author || tx.seq >= cp.count || cp.count > MAX_COUNT || !this.recent(epoch)) return
    let read = this.read.get(epoch)
    if (!read) this.read.set(epoch, (read = new Map()))
    if (!read.has(tx.seq)) read.set(tx.seq, tx) // a second receipt at one seq fails the root either way
  }

  /** What the checkpoint of `epoch` counted, by transfer id, as far as its receipts tell. */
  outcome(epoch: bigint): Outcome {
    const cp = this.checkpoints.get(epoch)
    if (!cp) return 'unknown'
    if (this.lost.get(epoch) === cp.leader || cp.count > MAX_COUNT) return 'unknowable'
    const read = this.read.get(epoch) ?? new Map<number, ReceiptedTransfer>()
    if (read.size < cp.count) return this.recent(epoch) ? 'unknown' : 'unknowable'
    const receipts = [...read.values()].sort((a, b) => a.seq - b.seq)
    // Not the receipts it counted (a leader that wrote two at one seq): they cannot tell.
    if (merkleRoot(receipts.map(receiptLeaf)) !== cp.root) return 'unknowable'
    return new Map(receipts.map((t) => [t.transfer.id, t]))
  }
}
