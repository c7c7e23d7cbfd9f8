// EIP-712 hashing of the channel's messages with precomputed type hashes: one keccak over a fixed-width encoding per
// struct, instead of ethers' generic TypedDataEncoder (tests check both agree byte for byte).
import { getAddress, keccak256, toUtf8Bytes } from 'ethers'
import { checksum, fromHex, keccakHex } from './bytes.js'
import type { TypedDataDomain, TypedDataField } from 'ethers'
import type { ChannelDomain, Checkpoint, Hex, Receipt, ReceiptedTransfer, Transfer } from './types.js'

export const DOMAIN_NAME = 'OffchainChannel'
export const DOMAIN_VERSION = '1'

/** The type definitions as ethers' signTypedData and TypedDataEncoder take them. */
export const TYPES = {
  Transfer: [
    { name: 'id', type: 'bytes16' },
    { name: 'epoch', type: 'uint64' },
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'amount', type: 'uint256' },
  ],
  Receipt: [
    { name: 'transfer', type: 'bytes32' },
    { name: 'epoch', type: 'uint64' },
    { name: 'seq', type: 'uint32' },
  ],
  Checkpoint: [
    { name: 'epoch', type: 'uint64' },
    { name: 'leader', type: 'uint32' },
    { name: 'nextLeader', type: 'uint32' },
    { name: 'balances', type: 'uint256[]' },
    { name: 'deposited', type: 'uint256[]' },
    { name: 'exitMask', type: 'uint256' },
    { name: 'txRoot', type: 'bytes32' },
    { name: 'txCount', type: 'uint32' },
  ],
} as const satisfies Record<string, TypedDataField[]>

const typeHash = (s: string): Hex => keccak256(toUtf8Bytes(s)) as Hex

export const TRANSFER_TYPEHASH = typeHash('Transfer(bytes16 id,uint64 epoch,address from,address to,uint256 amount)')
export const RECEIPT_TYPEHASH = typeHash('Receipt(bytes32 transfer,uint64 epoch,uint32 seq)')
export const CHECKPOINT_TYPEHASH = typeHash(
  'Checkpoint(uint64 epoch,uint32 leader,uint32 nextLeader,uint256[] balances,uint256[] deposited,uint256 exitMask,bytes32 txRoot,uint32 txCount)',
)
const DOMAIN_TYPEHASH = typeHash(
  'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)',
)

const MAX_UINT256 = (1n << 256n) - 1n
const WORD = 32

/** Fixed-width EIP-712 encoding into one buffer: each struct is a run of 32-byte words. */
class Words {
  readonly buf: Buffer
  private at = 0

  constructor(count: number) {
    this.buf = Buffer.alloc(count * WORD)
  }

  /** An unsigned integer, big-endian in its word; out-of-range values throw rather than wrap. */
  uint(value: bigint | number, bits: number): this {
    const v = BigInt(value)
    if (v < 0n || v > (bits === 256 ? MAX_UINT256 : (1n << BigInt(bits)) - 1n)) {
      throw new RangeError(`value ${v} does not fit uint${bits}`)
    }
    const hex = v.toString(16)
    this.buf.write(hex.length % 2 ? `0${hex}` : hex, this.at + WORD - Math.ceil(hex.length / 2), 'hex')
    this.at += WORD
    return this
  }

  /** An address, right-aligned. */
  address(a: string): this {
    fromHex(checksum(a), 20).copy(this.buf, this.at + 12)
    this.at += WORD
    return this
  }

  /** A bytesN value, left-aligned. */
  fixed(value: string, size: number): this {
    fromHex(value, size).copy(this.buf, this.at)
    this.at += WORD
    return this
  }

  hash(): Hex {
    return keccakHex(this.buf)
  }
}

function uintArrayHash(values: readonly bigint[]): Hex {
  const w = new Words(values.length)
  for (const v of values) w.uint(v, 256)
  return w.hash()
}

export function domainSeparator(domain: ChannelDomain): Hex {
  return new Words(5)
    .fixed(DOMAIN_TYPEHASH, 32)
    .fixed(keccak256(toUtf8Bytes(DOMAIN_NAME)), 32)
    .fixed(keccak256(toUtf8Bytes(DOMAIN_VERSION)), 32)
    .uint(domain.chainId, 256)
    .address(domain.verifyingContract)
    .hash()
}

export function ethersDomain(domain: ChannelDomain): TypedDataDomain {
  return {
    name: DOMAIN_NAME,
    version: DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: getAddress(domain.verifyingContract),
  }
}

export function hashTransfer(t: Transfer): Hex {
  return new Words(6)
    .fixed(TRANSFER_TYPEHASH, 32)
    .fixed(t.id, 16)
    .uint(t.epoch, 64)
    .address(t.from)
    .address(t.to)
    .uint(t.amount, 256)
    .hash()
}

export function hashReceipt(r: Receipt): Hex {
  return new Words(4).fixed(RECEIPT_TYPEHASH, 32).fixed(r.transfer, 32).uint(r.epoch, 64).uint(r.seq, 32).hash()
}

/** The Merkle leaf of a receipted transfer: its receipt's struct hash. */
export function receiptLeaf(t: ReceiptedTransfer): Hex {
  return hashReceipt({ transfer: hashTransfer(t.transfer), epoch: t.transfer.epoch, seq: t.seq })
}

export function hashCheckpoint(cp: Checkpoint): Hex {
  return new Words(9)
    .fixed(CHECKPOINT_TYPEHASH, 32)
    .uint(cp.epoch, 64)
    .uint(cp.leader, 32)
    .uint(cp.nextLeader, 32)
    .fixed(uintArrayHash(cp.balances), 32)
    .fixed(uintArrayHash(cp.deposited), 32)
    .uint(cp.exitMask, 256)
    .fixed(cp.txRoot, 32)
    .uint(cp.txCount, 32)
    .hash()
}

/** The digest a signer signs: keccak256(0x1901 ++ domainSeparator ++ structHash). */
const PREFIX = Buffer.from([0x19, 0x01])

export function typedDataDigest(separator: Hex, structHash: Hex): Hex {
  return keccakHex(Buffer.concat([PREFIX, fromHex(separator, 32), fromHex(structHash, 32)]))
}
