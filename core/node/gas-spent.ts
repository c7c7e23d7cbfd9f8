// The gas the channel has cost this member: the fees of every transaction its account sent to the channel contract
// (join, deposits, checkpoints it submitted, proposed or finalized, challenges, responses, resolves, withdraw,
// close), reverted ones included, each counted once. The chain is the ground truth: the channel's events name the
// transactions that did something, the node's own record names those it sent (a reverted one emits no event), and
// each receipt gives the sender and the fee (gas used times the effective gas price).
import type { Provider } from 'ethers'
import type { Hex } from '../protocol/types.js'
import { errorMessage } from '../util/error-message.js'
import { REORG_DEPTH, type ChannelHistory } from './channel-history.js'
import type { SentTransactions } from './sent-transactions.js'
import type { TxFee, TxFeeCache } from './tx-fees.js'

export interface GasSpent {
  feeWei: bigint
  /** Our transactions counted. */
  transactions: number
  /** The channel's transactions whose receipts are not read yet: the figure grows as they are. */
  unread: number
}

export interface ReceiptSource {
  /** Sender, block and fee of a mined transaction; null while it is not mined (or never will be). */
  receipt(hash: Hex): Promise<TxFee | null>
  /** Whether the chain knows the transaction at all, mined or waiting. */
  known(hash: Hex): Promise<boolean>
}

/**
 * Receipts from an ethers provider. `fee` is gas used times the effective gas price; a rollup's L1 data fee, which
 * some chains charge on top, is not in the receipt's standard fields and not counted.
 */
export function providerReceipts(provider: Provider): ReceiptSource {
  return {
    receipt: async (hash) => {
      const r = await provider.getTransactionReceipt(hash)
      return r && { block: r.blockNumber, from: r.from, feeWei: r.fee }
    },
    known: async (hash) => (await provider.getTransaction(hash)) !== null,
  }
}

/** Receipts asked for in one go: a channel with a long history is read over several views, not in one burst. */
const MAX_READS = 64
/** A transaction we sent that the chain has not heard of for this long was dropped: it cost nothing. */
const DROPPED_AFTER_MS = 10 * 60_000

export class GasLedger {
  private running: Promise<GasSpent> | undefined

  constructor(
    private readonly account: string,
    private readonly history: ChannelHistory,
    private readonly sent: SentTransactions,
    private readonly fees: TxFeeCache,
    private readonly receipts: ReceiptSource,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** What our account has paid in fees so far; callers that ask together share one reading. */
  spent(): Promise<GasSpent> {
    this.running ??= this.add().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async add(): Promise<GasSpent> {
    const { events, head } = await this.history.read()
    const settledAt = head - REORG_DEPTH
    const sent = this.sent.all()
    // A transaction is named by its hash, however many events it emitted and whether we also recorded sending it.
    const hashes = new Set<Hex>(this.fees.settledHashes())
    for (const e of events) hashes.add(e.transactionHash.toLowerCase() as Hex)
    for (const s of sent) hashes.add(s.hash)

    const unread = [...hashes].filter((h) => !this.fees.get(h))
    await Promise.all(
      unread.slice(0, MAX_READS).map(async (h) => {
        try {
          const fee = await this.receipts.receipt(h)
          if (fee) this.fees.put(h, fee, fee.block <= settledAt)
        } catch (err) {
          this.log(`reading the receipt of ${h} failed (tried again with the next view): ${errorMessage(err)}`)
        }
      }),
    )
    // Receipts read while recent are kept for good once their block is settled.
    for (const h of hashes) {
      const fee = this.fees.get(h)
      if (fee && fee.block <= settledAt && !this.fees.isSettled(h)) this.fees.put(h, fee, true)
    }
    this.fees.save()
    await this.forgetSent(sent)

    let feeWei = 0n
    let transactions = 0
    let left = 0
    for (const h of hashes) {
      const fee = this.fees.get(h)
      if (!fee) left++
      else if (fee.from.toLowerCase() === this.account.toLowerCase()) {
        feeWei += fee.feeWei
        transactions++
      }
    }
    return { feeWei, transactions, unread: left }
  }

  /** Sent transactions whose receipts are kept for good, or that were dropped, need no record of their own. */
  private async forgetSent(sent: readonly { hash: Hex; at: number }[]): Promise<void> {
    const done: Hex[] = []
    for (const s of sent) {
      if (this.fees.isSettled(s.hash)) done.push(s.hash)
      else if (!this.fees.get(s.hash) && Date.now() - s.at > DROPPED_AFTER_MS && !(await this.receipts.known(s.hash).catch(() => true))) done.push(s.hash)
    }
    this.sent.forget(done)
  }
}
