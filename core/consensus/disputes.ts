// A participant's part in disputes on chain: challenge a proposal, answer a challenge as its leader, and resolve
// one we opened once the leader answered or its time ran out.
import type { ReceiptedTransfer } from '../protocol/types.js'
import type { ChainPort } from './chain-port.js'

export class Disputes {
  /** The dispute we opened, while it is open. */
  private mine: { deadline: bigint } | undefined

  constructor(
    private readonly chain: Pick<ChainPort, 'challenge' | 'respond' | 'resolve'>,
    private readonly now: () => number,
    private readonly log: (line: string) => void,
  ) {}

  async challenge(epoch: bigint, leader: number, list: ReceiptedTransfer[]): Promise<void> {
    if (await this.attempt('challenge', () => this.chain.challenge(epoch, leader, list))) {
      this.log(`epoch ${epoch}: challenged leader ${leader} with ${list.length} transfers`)
    }
  }

  /** As the challenged leader: our list of the challenger's receipted transfers. */
  async answer(epoch: bigint, challenger: number, list: ReceiptedTransfer[]): Promise<void> {
    if (await this.attempt('response', () => this.chain.respond(list))) {
      this.log(`epoch ${epoch}: answered the challenge of member ${challenger} with ${list.length} transfers`)
    }
  }

  /** A challenge landed on chain; `ours` when we made it. */
  opened(ours: boolean, deadline: bigint): void {
    if (ours) this.mine = { deadline }
  }

  /** The leader answered: ours to resolve. */
  async answered(): Promise<void> {
    if (this.mine) await this.resolve()
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
      this.log(`${what} not made: ${err instanceof Error ? err.message : String(err)}`)
      return false
    }
  }
}
