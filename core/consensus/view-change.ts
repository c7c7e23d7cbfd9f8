// Replacing a silent leader (DESIGN.md section 5): collects members' votes to move the running epoch to the next one.
import type { MemberRecord } from './chain-port.js'

export class ViewChange {
  private votes = new Map<number, Set<number>>()

  /** A new attempt: earlier votes no longer count. */
  reset(): void {
    this.votes = new Map()
  }

  /**
   * Counts `author`'s vote to replace `leader`. True once every active member that may still lead, other than
   * `leader`, has voted.
   */
  vote(author: number, leader: number, members: readonly MemberRecord[], excluded: ReadonlySet<number>): boolean {
    const votes = this.votes.get(leader) ?? new Set<number>()
    votes.add(author)
    this.votes.set(leader, votes)
    const voters = members.filter((m) => !m.exited && m.index !== leader && !excluded.has(m.index))
    return voters.every((m) => votes.has(m.index))
  }
}
