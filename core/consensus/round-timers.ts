// A round's deadlines: its leader closes the epoch at the time limit and, without every vote a timeout later, puts
// the proposal on chain with a majority's; a member gives up on a silent leader and votes to replace it.
import type { LeaderRole } from './leader-role.js'
import type { Timing } from './participant-types.js'
import type { Round } from './round.js'
import type { SerialQueue } from './serial-queue.js'
import type { ViewChange } from './view-change.js'

export class RoundTimers {
  constructor(
    private readonly me: number,
    private readonly timing: Timing,
    private readonly queue: SerialQueue,
    private readonly leaderRole: LeaderRole,
    private readonly viewChange: ViewChange,
    /** Closes the running epoch (proposes), as its leader. */
    private readonly closeEpoch: () => Promise<void>,
    private readonly current: () => Round,
    /** Whether the running epoch has nothing to put on chain (with skipIdleEpochs: then nobody acts yet). */
    private readonly idle: () => Promise<boolean>,
  ) {}

  /** The round's next deadline, `ms` from now: its leader closes the epoch; a member waits a leader timeout more. */
  start(round: Round, ms: number): void {
    const leads = round.leader === this.me
    this.queue.arm(leads ? ms : ms + this.timing.leaderTimeoutMs, async () => {
      // An idle epoch waits for something to happen: the leader looks again an epoch later, members do not time out.
      if (this.timing.skipIdleEpochs && (await this.idle())) return this.start(round, this.timing.epochMs)
      return leads ? this.closeEpoch() : this.viewChange.timedOut(round)
    })
  }

  /** The leader proposed: if the votes are not all in a timeout later, it goes on chain with a majority's (B3). */
  proposed(round: Round): void {
    if (!round.proposal || round.proposal.submitted || round.proposal.withMajority) return
    this.queue.arm(this.timing.leaderTimeoutMs, async () => {
      if (this.current() === round && !(await this.leaderRole.proposeWithMajority(round))) this.proposed(round)
    })
  }

  /** A member saw the leader's proposal: the vote, or a challenge (which may wait two timeouts), gets time first. */
  leaderSpoke(round: Round): void {
    this.queue.arm(3 * this.timing.leaderTimeoutMs, () => this.viewChange.timedOut(round))
  }

  /** After a dispute's verdict the round goes on: its deadlines may have passed while the dispute held everything. */
  resumed(round: Round): void {
    // A leader that won with a vote still missing goes on with a majority's a timeout later (else it would wait).
    if (round.leader === this.me) return round.proposal ? this.proposed(round) : this.queue.arm(0, () => this.closeEpoch())
    if (round.proposedCount === undefined) this.start(round, 0)
    else this.leaderSpoke(round)
  }
}
