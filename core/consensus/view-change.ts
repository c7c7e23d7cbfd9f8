// Replacing a silent leader (DESIGN.md section 5): vote to replace it when it times out, and count the members'
// votes until the running epoch can move to the next leader in rotation.
import type { MemberList } from './member-list.js'
import type { OwnLog } from './own-log.js'
import { nextLeader } from './rotation.js'
import type { Round } from './round.js'

export interface ViewChangeDeps {
  me: number
  members: MemberList
  ownLog: OwnLog
  /** Arms the round's deadline timer (in the serial queue). */
  arm(ms: number, task: () => void): void
  leaderTimeoutMs: number
  log(line: string): void
}

export class ViewChange {
  private votes = new Map<number, Set<number>>()

  constructor(private readonly d: ViewChangeDeps) {}

  /** A new round: earlier votes no longer count. */
  reset(): void {
    this.votes = new Map()
  }

  /** The round's leader has been silent too long: vote to replace it, and again each timeout until it happens. */
  timedOut(round: Round): void {
    if (round.leader === this.d.me || round.disputeOpen || round.awaitingWindow) return
    this.d.log(`epoch ${round.epoch}: leader ${round.leader} timed out; voting to replace it`)
    this.d.ownLog.append({ type: 'view-change', epoch: round.epoch, leader: round.leader })
    // Votes may come from members still catching up: ask again if the change does not complete.
    this.d.arm(this.d.leaderTimeoutMs, () => this.timedOut(round))
  }

  /**
   * Counts `author`'s vote to replace the round's leader. Once a majority of the active members has voted (or every
   * other one, in a channel too small for a majority without the leader), returns the leader to move to (and
   * `excluded` gains the replaced one). Members replaced earlier in the epoch still vote: else the voters would
   * shrink with each change until one member alone could move the lead. Undefined while the votes are fewer, or when
   * no other member may lead (a leader never gets a second round of an epoch by a view change).
   */
  vote(round: Round, author: number, excluded: Set<number>): number | undefined {
    const leader = round.leader
    const votes = this.votes.get(leader) ?? new Set<number>()
    votes.add(author)
    this.votes.set(leader, votes)
    const members = this.d.members
    const voters = members.all.filter((m) => !m.exited && m.index !== leader)
    const needed = Math.min(voters.length, Math.floor((voters.length + 1) / 2) + 1)
    if (voters.filter((m) => votes.has(m.index)).length < needed) return undefined
    const next = nextLeader(leader, members.count, (i) => members.exited(i) || excluded.has(i))
    if (next === leader) {
      this.d.log(`epoch ${round.epoch}: leader ${leader} voted out, but no other member may lead this epoch`)
      return undefined
    }
    excluded.add(leader)
    this.d.log(`epoch ${round.epoch}: view change from leader ${leader} to ${next}`)
    return next
  }
}
