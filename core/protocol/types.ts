// The signed messages of the channel (DESIGN.md section 3). Field order and widths match contracts/Channel.sol.

/** A 0x-prefixed hex string. */
export type Hex = `0x${string}`

/**
 * The largest amount a transfer may carry: the contract keeps a member's deposit in a uint88, and a dispute counts a
 * transfer above it as a bad entry, so nothing larger can ever be settled.
 */
export const MAX_AMOUNT_WEI = 2n ** 88n - 1n

/** Never changed once made (hashTransfer remembers the hash of each object). */
export interface Transfer {
  /** Random 16-byte id, unique within the epoch. */
  readonly id: Hex
  readonly epoch: bigint
  readonly from: string
  readonly to: string
  readonly amount: bigint
}

/**
 * A transfer, its fields always in this order: every transfer the node holds, decoded or made here, then shares one
 * hidden class in V8 (a spread copy or one built key by key gets another, and optimized code that met both was
 * dropped: see entries.ts).
 */
export function makeTransfer(id: Hex, epoch: bigint, from: string, to: string, amount: bigint): Transfer {
  return { id, epoch, from, to, amount }
}

/** The leader's soft confirmation that a transfer holds sequence number `seq` in its epoch. */
export interface Receipt {
  /** Struct hash of the transfer. */
  transfer: Hex
  epoch: bigint
  seq: number
}

export interface Checkpoint {
  epoch: bigint
  leader: number
  nextLeader: number
  balances: bigint[]
  /** Cumulative deposits included, per member index. */
  deposited: bigint[]
  /** Bit i set: member i exits and is paid by this checkpoint. */
  exitMask: bigint
  /** Positional Merkle root of the epoch's receipts (receipt struct hashes ordered by seq). */
  txRoot: Hex
  txCount: number
}

/** A receipted transfer as dispute evidence: the transfer, its seq and the three signatures. */
export interface ReceiptedTransfer {
  transfer: Transfer
  seq: number
  senderSig: Hex
  receiverSig: Hex
  leaderSig: Hex
}

/** A receipted transfer, its fields always in this order (see makeTransfer). */
export function makeReceipted(transfer: Transfer, seq: number, senderSig: Hex, receiverSig: Hex, leaderSig: Hex): ReceiptedTransfer {
  return { transfer, seq, senderSig, receiverSig, leaderSig }
}

/** What separates one channel's signatures from every other's (EIP-712 domain). */
export interface ChannelDomain {
  chainId: bigint
  /** The channel contract's address. */
  verifyingContract: string
}
