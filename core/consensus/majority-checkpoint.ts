// A checkpoint a majority signed, on chain and waiting out its challenge window: finalize it when the window is
// over (its leader at once, every other member after a grace period, so it never waits on one node).
import type { Checkpoint } from '../protocol/types.js'
import { errorMessage } from '../util/error-message.js'
import type { ChainPort, CheckpointState } from './chain-port.js'

export class MajorityCheckpoint {
  private waiting: { checkpoint: Checkpoint; deadline: bigint } | undefined

  constructor(
    private readonly me: number,
    private readonly chain: Pick<ChainPort, 'finalizeCheckpoint'>,
    private readonly now: () => number,
    private readonly graceMs: number,
    private readonly log: (line: string) => void,
  ) {}

  /** The chain holds `checkpoint` until `deadline` (unix seconds). */
  proposed(checkpoint: Checkpoint, deadline: bigint): void {
    this.waiting = { checkpoint, deadline }
  }

  /** Whether `checkpoint` is the one waiting. */
  holds(checkpoint: Checkpoint): boolean {
    const w = this.waiting?.checkpoint
    return w !== undefined && w.epoch === checkpoint.epoch && w.leader === checkpoint.leader && w.txRoot === checkpoint.txRoot
  }

  /** It landed, or a dispute voided it. */
  over(): void {
    this.waiting = undefined
  }

  /** Lands the waiting checkpoint once its window is over; `last` is the last checkpoint on chain. */
  async finalizeWhenDue(last: CheckpointState): Promise<void> {
    const w = this.waiting
    if (!w) return
    const dueAt = (Number(w.deadline) + 1) * 1000 + (w.checkpoint.leader === this.me ? 0 : this.graceMs)
    if (this.now() < dueAt) return
    try {
      await this.chain.finalizeCheckpoint(w.checkpoint, last)
      this.log(`epoch ${w.checkpoint.epoch}: finalized the majority's checkpoint`)
    } catch (err) {
      this.log(`epoch ${w.checkpoint.epoch}: majority's checkpoint not finalized: ${errorMessage(err)}`)
    }
  }
}
