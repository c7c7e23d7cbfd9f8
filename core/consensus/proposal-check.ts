// A member's judgement of the leader's proposal, as a pure function: vote for it, challenge it now, challenge it
// later (only if nobody else has), or stay silent.
import type { Checkpoint } from '../protocol/types.js'
import type { CheckpointState, MemberRecord } from './chain-port.js'
import { nextLeader } from './rotation.js'

export type Verdict =
  | { action: 'vote' }
  /** Our own balance is wrong: our receipts prove it. */
  | { action: 'challenge-now'; why: string }
  /**
   * Our balance is right but the receipt root is not: provable only with two or more receipts of ours (an order),
   * so we wait and let a wronged member's challenge come first.
   */
  | { action: 'challenge-later'; why: string }
  /** Wrong, but not ours to challenge: without our vote it cannot land. */
  | { action: 'abstain'; why: string }

export interface ProposalCheck {
  proposal: Checkpoint
  /** Who checks. */
  me: number
  /** The last checkpoint on chain. */
  last: CheckpointState
  members: readonly MemberRecord[]
  /** Members that asked to exit this epoch. */
  exitRequests: ReadonlySet<number>
  /** The checkpoint our own ledger gives for the proposal's choices (next leader, deposits, exits). */
  recount(next: { nextLeader: number; deposited: readonly bigint[]; prevDeposited: readonly bigint[]; exitMask: bigint }): Checkpoint
  /** How many receipted transfers of ours with valid signatures we could show on chain (asked only if needed). */
  evidence(): number
}

export function checkProposal(c: ProposalCheck): Verdict {
  const cp = c.proposal
  const n = cp.balances.length
  const exiting = (i: number): boolean => ((cp.exitMask >> BigInt(i)) & 1n) === 1n
  const exited = (i: number): boolean => c.members[i]?.exited ?? true
  const problems: string[] = []
  if (n !== cp.deposited.length || n < c.last.balances.length || n > c.members.length) problems.push('member count')
  for (let i = 0; i < n; i++) {
    const d = cp.deposited[i] ?? 0n
    if (d < (c.last.deposited[i] ?? 0n) || d > (c.members[i]?.deposit ?? 0n)) problems.push(`deposit of ${i}`)
    if (exiting(i) && !c.exitRequests.has(i)) problems.push(`exit of ${i} nobody asked for`)
  }
  if (cp.nextLeader !== nextLeader(cp.leader, n, (i) => exited(i) || exiting(i))) problems.push('next leader')
  if (problems.length) return { action: 'abstain', why: problems.join(', ') }

  const expected = c.recount({ nextLeader: cp.nextLeader, deposited: cp.deposited, prevDeposited: c.last.deposited, exitMask: cp.exitMask })
  if (sameCheckpoint(expected, cp)) return { action: 'vote' }
  if (expected.balances[c.me] !== cp.balances[c.me]) return { action: 'challenge-now', why: 'our balance' }
  const rootDiffers = expected.txRoot !== cp.txRoot || expected.txCount !== cp.txCount
  if (rootDiffers && c.evidence() >= 2) return { action: 'challenge-later', why: 'the receipt root' }
  return { action: 'abstain', why: 'balances or receipts' }
}

export function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return (
    a.epoch === b.epoch &&
    a.leader === b.leader &&
    a.nextLeader === b.nextLeader &&
    a.exitMask === b.exitMask &&
    a.txRoot === b.txRoot &&
    a.txCount === b.txCount &&
    a.balances.length === b.balances.length &&
    a.balances.every((v, i) => v === b.balances[i]) &&
    a.deposited.length === b.deposited.length &&
    a.deposited.every((v, i) => v === b.deposited[i])
  )
}
