// The channel's events as a view needs them (its checkpoints, the transactions that cost us gas), each block read
// from the chain once it is settled: a view asks every few seconds, and a public RPC should not be asked again and
// again for old blocks.
import type { ChannelEvent } from '../chain/index.js'

/** Blocks below the head after which an event read from the chain is taken as final (no reorg goes that deep). */
export const REORG_DEPTH = 64

/** What the history reads (ChannelClient has it). */
export interface EventSource {
  blockNumber(): Promise<number>
  deploymentBlock(): Promise<number>
  events(fromBlock: number, toBlock: number): Promise<ChannelEvent[]>
}

export interface HistoryRead {
  /** Every event of the channel up to `head`, oldest first. */
  events: ChannelEvent[]
  head: number
}

export class ChannelHistory {
  /** Events in blocks up to `settledTo`, read once. */
  private readonly settled: ChannelEvent[] = []
  private settledTo = -1
  /** One read at a time: callers that ask together share it (two would both append the same settled blocks). */
  private reading: Promise<HistoryRead> | undefined

  constructor(private readonly chain: EventSource) {}

  read(): Promise<HistoryRead> {
    this.reading ??= this.readOnce().finally(() => {
      this.reading = undefined
    })
    return this.reading
  }

  private async readOnce(): Promise<HistoryRead> {
    const head = await this.chain.blockNumber()
    if (this.settledTo < 0) this.settledTo = (await this.chain.deploymentBlock()) - 1 // nothing before it
    const from = this.settledTo + 1
    const recent = from > head ? [] : await this.chain.events(from, head)
    const settleTo = head - REORG_DEPTH
    if (settleTo > this.settledTo) {
      this.settled.push(...recent.filter((e) => e.blockNumber <= settleTo))
      this.settledTo = settleTo
    }
    return { events: [...this.settled, ...recent.filter((e) => e.blockNumber > this.settledTo)], head }
  }
}
