// The running epoch across its rounds: the checkpoint it starts from, what carries over from one round to the
// next (transfers both parties signed, exit requests, leaders it may no longer have) and the round under way.
import { EpochLedger, type SignatureCheck } from '../ledger/epoch-ledger.js'
import type { CheckpointState, MemberRecord } from './chain-port.js'
import type { Countersigned } from './leader-role.js'
import { Round } from './round.js'

export class Epoch {
  /** Leaders this epoch may no longer have: replaced by a view change, or beaten in a dispute. */
  readonly excluded = new Set<number>()
  readonly countersigned = new Map<string, Countersigned>()
  readonly exitRequests = new Set<number>()
  private current: Round | undefined
  /** The last round of this epoch we led: what we answer a challenge with, and whose proposal may still land. */
  led: Round | undefined

  constructor(
    readonly number: bigint,
    /** The last checkpoint on chain, which every round starts from. */
    readonly last: CheckpointState,
    private readonly txCap: number,
    private readonly check: SignatureCheck,
  ) {}

  get round(): Round {
    if (!this.current) throw new Error('the epoch has no round yet')
    return this.current
  }

  /** A (re)start of the epoch under `leader`, from the last checkpoint, over the members as they are now. */
  newRound(leader: number, members: readonly MemberRecord[], me: number): Round {
    const ledger = new EpochLedger(
      {
        epoch: this.number,
        leader,
        members: members.map((m) => m.account),
        exited: members.map((m) => m.exited),
        balances: members.map((m, i) => (m.exited ? 0n : (this.last.balances[i] ?? 0n))),
        txCap: this.txCap,
      },
      this.check,
    )
    this.current = new Round(this.number, leader, ledger)
    if (leader === me) this.led = this.current
    return this.current
  }
}
