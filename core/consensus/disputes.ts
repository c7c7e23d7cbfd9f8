// A participant's part in disputes on chain: challenge a proposal, answer a challenge as its leader, and resolve
// one we opened once the leader answered or its time ran out.
import type { ReceiptedTransfer } from '../protocol/types.js'
import type { ChainPort, ChannelEvent } from './chain-port.js'
import type { Round } from './round.js'
import { errorMessage } from '../util/error-message.js'

export type DisputeEvent = Extract<ChannelEvent, { type: 'Challenged' | 'Responded' | 'DisputeResolved' }>

/** What a dispute's end means for the round. */
export type DisputeOutcome =
  /** The leader lost: the epoch restarts under the next leader the contract named. */
  | { restartUnder: number }
  /** The leader won: its checkpoint goes on chain without the challenger's vote. */
  | { contestedBy: number }
  | undefined

export class Disputes {
  /** The dispute we opened, while it is open. */
  private mine: { deadline: bigint } | undefined

  constructor(
    private readonly me: number,
    private readonly chain: Pick<ChainPort, 'challenge' | 'respond' | 'resolve'>,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  async challenge(epoch: bigint, leader: number, list: ReceiptedTransfer[]): Promise<void> {
    if (await this.attempt('challenge', () => this.chain.challenge(epoch, leader, list))) {
      this.log(`epoch ${epoch}: challenged leader ${leader} with ${list.length} transfers`)
    }
  }

  /**
   * A dispute event of the running round's epoch. As the challenged leader we answer with `answer(challenger)`, our
   * list of the challenger's receipted transfers; as the challenger we resolve once the leader has answered.
   */
  async onEvent(round: Round, ev: DisputeEvent, answer: (challenger: number) => ReceiptedTransfer[]): Promise<DisputeOutcome> {
    switch (ev.type) {
      case 'Challenged': {
        round.disputeOpen = true
        round.ledger.close()
        if (ev.challenger === this.me) this.mine = { deadline: ev.deadline }
        if (ev.leader !== this.me) return undefined
        const list = answer(ev.challenger)
        if (await this.attempt('response', () => this.chain.respond(list))) {
          this.log(`epoch ${ev.epoch}: answered the challenge of member ${ev.challenger} with ${list.length} transfers`)
        }
        return undefined
      }
      case 'Responded':
        if (this.mine) await this.resolve()
        return undefined
      case 'DisputeResolved':
        round.disputeOpen = false
        this.mine = undefined
        if (!ev.leaderRight) {
          this.log(`epoch ${ev.epoch}: leader ${ev.leader} lost the dispute; restarting under ${ev.nextLeader}`)
          return { restartUnder: ev.nextLeader }
        }
        return ev.leader === this.me ? { contestedBy: ev.challenger } : undefined
    }
  }

  /** The leader stayed silent past its deadline: it loses. */
  async resolveIfLeaderSilent(): Promise<void> {
    if (this.mine && BigInt(Math.floor(this.now() / 1000)) > this.mine.deadline) await this.resolve()
  }

  /** The dispute is over, or the round it belonged to. */
  closed(): void {
    this.mine = undefined
  }

  private async resolve(): Promise<void> {
    await this.attempt('resolve', () => this.chain.resolve())
  }

  /** A chain call whose failure is logged, not thrown (the next poll may try again). */
  private async attempt(what: string, call: () => Promise<unknown>): Promise<boolean> {
    try {
      await call()
      return true
    } catch (err) {
      this.log(`${what} not made: ${errorMessage(err)}`)
      return false
    }
  }
}
