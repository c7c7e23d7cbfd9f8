// The chain as the consensus layer needs it: the calls and reads a participant makes and the events it reacts to.
// Declared here, by the consumer, so the protocol never changes shape with the chain library; core/chain's
// ChannelClient implements it over ethers, and tests may implement it too.
import type { ChannelDomain, Checkpoint, Hex, ReceiptedTransfer } from '../protocol/types.js'

export interface ChannelParams {
  /** Seconds the challenged leader has to respond. */
  responseWindow: bigint
  /** Seconds without a checkpoint after which any member may close the channel. */
  staleAfter: bigint
  /** Per-member transfers per epoch; bounds dispute lists. */
  txCap: number
  /** Seconds a majority's checkpoint waits for a challenge by a member without a vote (default: responseWindow). */
  challengeWindow?: bigint
  /** Wei a join must bring at least (default 1). */
  minDeposit?: bigint
  /** Only these accounts may join (empty or absent: anyone may). */
  invited?: readonly string[]
}

export type DisputePhase = 'none' | 'open' | 'responded' | 'leader-won'

export interface ChannelStatus {
  /** Last checkpointed epoch (0 before the first checkpoint). */
  checkpointedEpoch: bigint
  /** The epoch being traded in: checkpointedEpoch + 1. */
  runningEpoch: bigint
  /** Leader of the running epoch as the chain knows it. */
  leader: number
  /** Members covered by the last checkpoint. */
  included: number
  /** Unix seconds of the last checkpoint (deployment before the first). */
  checkpointedAt: bigint
  disputePhase: DisputePhase
  closed: boolean
}

export interface MemberRecord {
  index: number
  account: string
  peerKey: Hex
  /** Cumulative deposit the contract holds for the member. */
  deposit: bigint
  exited: boolean
}

export interface DisputeRecord {
  epoch: bigint
  challenger: number
  leader: number
  /** Unix seconds: the challenger's chunks until then. */
  listDeadline: bigint
  /** Unix seconds; after it a leader silent or unfinished loses. */
  deadline: bigint
  /** Entries of the challenger's list so far, and in all. */
  challengerCount: number
  challengerTotal: number
  /** Entries of the leader's answer so far, and in all (0 before its first chunk). */
  leaderCount: number
  leaderTotal: number
  /** Meaningful once the leader has responded. */
  leaderRight: boolean
  challengerNet: bigint
}

/** The last checkpoint's balances and deposits, which some calls must pass back (checked against its hash). */
export interface CheckpointState {
  balances: bigint[]
  deposited: bigint[]
}

export interface EventMeta {
  blockNumber: number
  transactionHash: Hex
}

export type ChannelEvent = EventMeta &
  (
    | { type: 'Joined'; index: number; account: string; peerKey: Hex; amount: bigint }
    | { type: 'Deposited'; index: number; amount: bigint; total: bigint }
    | {
        type: 'CheckpointSubmitted'
        epoch: bigint
        leader: number
        nextLeader: number
        txRoot: Hex
        txCount: number
        exitMask: bigint
        balances: bigint[]
        deposited: bigint[]
      }
    | { type: 'Exited'; index: number; account: string; amount: bigint }
    | { type: 'PaymentDeferred'; account: string; amount: bigint }
    | { type: 'Withdrawn'; account: string; amount: bigint }
    /** `listed` of the challenger's `count` entries are on chain; the rest may follow until `listDeadline`. */
    | { type: 'Challenged'; epoch: bigint; challenger: number; leader: number; count: number; listed: number; listDeadline: bigint; deadline: bigint }
    | { type: 'ChallengeListed'; epoch: bigint; listed: number; deadline: bigint }
    /** A chunk of the leader's answer (the last one also brings Responded). */
    | { type: 'Answered'; epoch: bigint; listed: number }
    | { type: 'Responded'; epoch: bigint; count: number; leaderRight: boolean }
    | { type: 'DisputeResolved'; epoch: bigint; challenger: number; leader: number; leaderRight: boolean; nextLeader: number }
    | { type: 'ChannelClosed'; epoch: bigint }
    | ({ type: 'CheckpointProposed' } & PendingCheckpoint)
  )

export type CheckpointEvent = Extract<ChannelEvent, { type: 'CheckpointSubmitted' }>

export interface TxResult {
  hash: Hex
  blockNumber: number
  gasUsed: bigint
  events: ChannelEvent[]
}

/** A checkpoint a majority signed, waiting out its challenge window. */
export interface PendingCheckpoint {
  checkpoint: Checkpoint
  /** Members without a vote: they may challenge it until the deadline. */
  unsignedMask: bigint
  /** Unix seconds; after it anyone may finalize it. */
  deadline: bigint
}

/** Shows on chain that a member led an epoch: a checkpoint of that epoch it signed as its leader (its proposal). */
export interface LeaderEvidence {
  checkpoint: Checkpoint
  sig: Hex
}

/** What a participant asks of the chain. */
export interface ChainPort {
  /** The EIP-712 domain every off-chain signature of this channel is bound to. */
  domain(): Promise<ChannelDomain>
  params(): Promise<ChannelParams>
  status(): Promise<ChannelStatus>
  /** Every member by index, exited ones included. */
  members(): Promise<MemberRecord[]>
  /** Bit i set: member i lost a dispute in the running epoch and may not lead it. */
  bannedLeaders(): Promise<bigint>
  blockNumber(): Promise<number>
  /** The channel's events in a block range (from its deployment, to the head, by default), oldest first. */
  events(fromBlock?: number, toBlock?: number): Promise<ChannelEvent[]>
  submitCheckpoint(cp: Checkpoint, sigs: readonly Hex[]): Promise<TxResult>
  /** A checkpoint with a majority's votes ('0x' for a missing one): final after the challenge window. */
  proposeCheckpoint(cp: Checkpoint, sigs: readonly Hex[]): Promise<TxResult>
  /** Lands the pending checkpoint once its window is over (prev: the last checkpoint, for contested members). */
  finalizeCheckpoint(cp: Checkpoint, prev: CheckpointState): Promise<TxResult>
  /** The checkpoint of a leader that won a dispute, without the challenger's vote. */
  submitContestedCheckpoint(cp: Checkpoint, sigs: readonly Hex[], prev: CheckpointState): Promise<TxResult>
  /** Our list against `leader`, in as many transactions as it takes (the last one's result, gas summed). */
  challenge(epoch: bigint, leader: number, txs: readonly ReceiptedTransfer[], led: LeaderEvidence): Promise<TxResult>
  /** Our answer to the open challenge, in as many transactions as it takes, from where an earlier attempt stopped. */
  respond(txs: readonly ReceiptedTransfer[]): Promise<TxResult>
  resolve(): Promise<TxResult>
  /** The list a leader answered a challenge with, read from its `respond` transactions in order (undefined if one is not). */
  answerOf(txHashes: readonly Hex[]): Promise<ReceiptedTransfer[] | undefined>
}

/** `chain` with some of its calls replaced; every other call goes to `chain` itself. */
export function overrideChain(chain: ChainPort, overrides: Partial<ChainPort>): ChainPort {
  return new Proxy(chain, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof ChainPort]
      const v: unknown = Reflect.get(target, prop, target)
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}
