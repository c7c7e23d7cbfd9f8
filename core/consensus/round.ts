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
  /** On chain with a majority's votes, waiting out its challenge window. */
  withMajority?: boolean
  /** After a dispute the leader won: the challenger whose vote is not needed. */
  contestedBy?: number
}

export interface EpochProgress {
  epoch: bigint
  leader: number
  phase: 'trading' | 'voting' | 'dispute'
  /** Receipts of this round seen so far. */
  receipts: number
  /** Members whose vote on the proposal we have seen (the leader's proposal counts as its vote). */
  voted: number[]
  /** Members the proposal still waits for: a stalled epoch names them. */
  awaiting: number[]
}

export class Round {
  disputeOpen = false
  /** A checkpoint of this epoch signed by a majority is on chain, waiting out its challenge window. */
  awaitingWindow = false
  /** Leader: what it proposed. */
  proposal: Proposal | undefined
  /** Member: it voted for this round's proposal. */
  voted = false
  /** Members covered by the proposal, once there is one. */
  proposedCount: number | undefined
  /** Member: a proposal of the leader was let through while the leader was muted for junk (once a round). */
  mutedProposalHeard = false
  /** Members whose vote on the proposal we have seen (the leader's proposal counts as its vote). */
  readonly votesSeen = new Set<number>()

  constructor(
    readonly epoch: bigint,
    readonly leader: number,
    readonly ledger: EpochLedger,
  ) {}

  /** Whether a payment between these accounts can be receipted in this round now. */
  trading(from: string, to: string): boolean {
    return !this.ledger.isClosed && !this.disputeOpen && this.ledger.indexOf(from) !== undefined && this.ledger.indexOf(to) !== undefined
  }

  /** Where the round stands; `exited` members are not waited for. */
  progress(exited: (index: number) => boolean): EpochProgress {
    const n = this.proposedCount
    const voters = n === undefined ? [] : Array.from({ length: n }, (_, i) => i).filter((i) => !exited(i))
    return {
      epoch: this.epoch,
      leader: this.leader,
      phase: this.disputeOpen ? 'dispute' : n === undefined ? 'trading' : 'voting',
      receipts: this.ledger.seq,
      voted: voters.filter((i) => this.votesSeen.has(i)),
      awaiting: voters.filter((i) => !this.votesSeen.has(i)),
    }
  }
}
