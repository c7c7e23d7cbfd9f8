// One attempt at the running epoch under one leader: its ledger and where its proposal's vote stands. An epoch
// restarted by a view change or a lost dispute begins a new round from the same last checkpoint.
import type { EpochLedger } from '../ledger/epoch-ledger.js'
import type { Checkpoint, Hex } from '../protocol/types.js'

/** The leader's proposal of this round and the votes it collected. */
export interface Proposal {
  cp: Checkpoint
  digest: Hex
  votes: Map<number, Hex>
  submitted: boolean
  /** After a dispute the leader won: the challenger whose vote is not needed. */
  contestedBy?: number
}

export class Round {
  disputeOpen = false
  /** Leader: what it proposed. */
  proposal: Proposal | undefined
  /** Member: it voted for this round's proposal. */
  voted = false
  /** Members covered by the proposal, once there is one. */
  proposedCount: number | undefined
  /** Members whose vote on the proposal we have seen (the leader's proposal counts as its vote). */
  readonly votesSeen = new Set<number>()

  constructor(
    /** Counts rounds, so a delayed action can tell that its moment has passed. */
    readonly number: number,
    readonly epoch: bigint,
    readonly leader: number,
    readonly ledger: EpochLedger,
  ) {}
}
