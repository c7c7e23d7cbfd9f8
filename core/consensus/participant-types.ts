// The participant's public shapes: its options, its timing and the events it emits.
import type { Hex } from '../protocol/types.js'
import type { ChainPort } from './chain-port.js'
import type { Conduct } from './conduct.js'
import type { MemberList } from './member-list.js'
import type { TransferRecord } from './payments.js'
import type { Clock } from './serial-queue.js'
import type { Transport } from './transport.js'

export interface Timing {
  /** The leader closes the epoch this long after it starts (or earlier, when a member reaches the transfer cap). */
  epochMs: number
  /** Members give up on a leader that has proposed nothing this long after the epoch's time limit. */
  leaderTimeoutMs: number
  /** How often the chain is read for checkpoints, disputes and deposits. */
  chainPollMs: number
  /**
   * An epoch in which nothing happened (no transfer, join, deposit or exit) does not go on chain: its leader keeps
   * it open, and members do not hold that against it. On for a public network (a checkpoint costs gas); the sandbox
   * keeps checkpointing every epoch so leaders visibly rotate.
   */
  skipIdleEpochs?: boolean
}

export interface ParticipantOptions {
  index: number
  /** The member's account key; signs transfers, receipts and checkpoints. Never leaves this object. */
  privateKey: Hex
  chain: ChainPort
  transport: Transport
  timing: Timing
  /** The member list to keep up to date (shared with whoever else reads it); a new one by default. */
  members?: MemberList
  /** Honest unless a test injects otherwise. */
  conduct?: Conduct
  clock?: Clock
  /** A line of what happened, for logs; never carries a key. */
  log?: (line: string) => void
}

export interface ParticipantEvents {
  epoch: [{ epoch: bigint; leader: number }]
  transfer: [TransferRecord]
  checkpoint: [{ epoch: bigint; leader: number; txHash: Hex; balances: bigint[] }]
  'view-change': [{ epoch: bigint; from: number; to: number }]
  dispute: [{ epoch: bigint; challenger: number; leader: number; leaderRight?: boolean }]
  /** This member left the channel with that checkpoint and stops. */
  exited: [{ epoch: bigint }]
}
