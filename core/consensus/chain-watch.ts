// Reads the channel's events from the chain: its checkpoint history once, then new events one read at a time, in order.
import type { Hex } from '../protocol/types.js'
import type { ChainPort, ChannelEvent, CheckpointState, PendingCheckpoint } from './chain-port.js'
import type { LandedCheckpoint } from './counted-receipts.js'
import { errorMessage } from '../util/error-message.js'

export class ChainWatch {
  private nextBlock = 0
  private reading = false
  /** Asked to read while a read was under way: read again after it (it may have asked for the head too early). */
  private again = false
  private timer: NodeJS.Timeout | undefined
  private ms = 0

  constructor(
    private readonly chain: Pick<ChainPort, 'blockNumber' | 'events'>,
    /** New events, oldest first (possibly none: a read happened). */
    private readonly onEvents: (events: ChannelEvent[]) => void,
    private readonly log: (line: string) => void,
  ) {}

  /** Watches from `fromBlock` on, reading every `ms`. */
  start(fromBlock: number, ms: number): void {
    this.nextBlock = fromBlock
    this.ms = ms
    this.timer = setInterval(() => void this.read(), ms)
  }

  /** Once started, reads every `ms` from now on (a watch told of new blocks polls only as a fallback). */
  pace(ms: number): void {
    if (ms === this.ms || this.timer === undefined) return
    clearInterval(this.timer)
    this.start(this.nextBlock, ms)
  }

  /** Reads now (after the read under way, if one is). Never throws: a failed read is logged and tried again later. */
  async read(): Promise<void> {
    if (this.timer === undefined) return
    if (this.reading) return void (this.again = true)
    this.reading = true
    try {
      const head = await this.chain.blockNumber()
      const events = head >= this.nextBlock ? await this.chain.events(this.nextBlock, head) : []
      this.nextBlock = Math.max(this.nextBlock, head + 1)
      this.onEvents(events)
    } catch (err) {
      this.log(`chain read failed: ${errorMessage(err)}`)
    } finally {
      this.reading = false
    }
    if (this.again) {
      this.again = false
      return this.read()
    }
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }
}

/** A dispute `challenger` lost to `leader` in `epoch`: the leader's answer is in transactions `answerTxs`. */
export interface LostChallenge {
  epoch: bigint
  challenger: number
  leader: number
  answerTxs: Hex[]
}

/**
 * One read of the channel's history up to block `head`: every checkpoint (leader, count, root) goes into `landed`. Returns the
 * balances the checkpoint of `epoch` (the last one) left, a majority's checkpoint of the next epoch still waiting
 * out its window, if one is (a returning member must check it), and every dispute a challenger lost (what a
 * restarted challenger reads to know which of its payments the leader's checkpoint counted).
 */
export async function checkpointHistory(
  chain: Pick<ChainPort, 'events'>,
  head: number,
  epoch: bigint,
  landed: Map<bigint, LandedCheckpoint>,
): Promise<{ last: CheckpointState; waiting: PendingCheckpoint | undefined; lost: LostChallenge[] }> {
  let last: CheckpointState = { balances: [], deposited: [] }
  let waiting: PendingCheckpoint | undefined
  let answerTxs: Hex[] = []
  const lost: LostChallenge[] = []
  for (const ev of await chain.events(undefined, head)) {
    if (ev.type === 'CheckpointProposed' && ev.checkpoint.epoch === epoch + 1n) waiting = ev
    if (ev.type === 'Challenged') answerTxs = []
    if (ev.type === 'Answered') answerTxs.push(ev.transactionHash)
    if (ev.type === 'DisputeResolved' && ev.leaderRight && answerTxs.length > 0) {
      lost.push({ epoch: ev.epoch, challenger: ev.challenger, leader: ev.leader, answerTxs })
    }
    if (ev.type === 'DisputeResolved' && !ev.leaderRight && ev.epoch === epoch + 1n) waiting = undefined // voided
    if (ev.type !== 'CheckpointSubmitted') continue
    landed.set(ev.epoch, { leader: ev.leader, count: ev.txCount, root: ev.txRoot })
    if (ev.epoch === epoch) last = { balances: ev.balances, deposited: ev.deposited }
  }
  return { last, waiting, lost }
}
