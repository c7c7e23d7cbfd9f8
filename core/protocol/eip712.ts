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
const MAX_UINT64 = (1n << 64n) - 1n
const WORD = 32

/** Fixed-width EIP-712 encoding into one buffer: each struct is a run of 32-byte words. */
class Words {
  readonly buf: Buffer
  private at = 0

  constructor(count: number, buf: Buffer = Buffer.alloc(count * WORD)) {
    this.buf = buf
  }

  /** An unsigned integer, big-endian in its word; out-of-range values throw rather than wrap. */
  uint(value: bigint | number, bits: number): this {
    const v = BigInt(value)
    if (v < 0n || v > (bits === 256 ? MAX_UINT256 : (1n << BigInt(bits)) - 1n)) {
      throw new RangeError(`value ${v} does not fit uint${bits}`)
    }
    this.buf.fill(0, this.at, this.at + WORD) // a reused buffer holds the last value
    if (v <= MAX_UINT64) this.buf.writeBigUInt64BE(v, this.at + WORD - 8) // the usual case, without a hex string
    else {
      const hex = v.toString(16)
      this.buf.write(hex.length % 2 ? `0${hex}` : hex, this.at + WORD - Math.ceil(hex.length / 2), 'hex')
    }
    this.at += WORD
    return this
  }

  /** An address, right-aligned. */
  address(a: string): this {
    this.put(checksum(a), this.at + 12, 20)
    this.at += WORD
    return this
  }

  /** A bytesN value, left-aligned. */
  fixed(value: string, size: number): this {
    this.put(value, this.at, size)
    this.at += WORD
    return this
  }

  /** A word written once into a reused buffer (a type hash): passed over. */
  skip(): this {
    this.at += WORD
    return this
  }

  /** Writes 0x-hex of exactly `size` bytes at `offset`, straight into the buffer; throws on anything else. */
  private put(hex: string, offset: number, size: number): void {
    if (typeof hex !== 'string' || hex.length !== 2 + 2 * size || hex[0] !== '0' || hex[1] !== 'x') {
      throw new RangeError(`expected ${size} bytes of 0x hex`)
    }
    // Buffer.write stops at the first non-hex pair, so a short count means a bad string.
    if (this.buf.write(hex.slice(2), offset, size, 'hex') !== size) throw new TypeError('not a 0x hex string')
  }

  hash(): Hex {
    return keccakHex(this.buf)
  }
}

/**
 * The buffers of the two struct hashes every member computes for every payment, reused (hashing is synchronous and
 * neither is built inside another): their type hash is written once, and every other word is written whole on each
 * use or (the padding of a bytes16 or an address) never.
 */
function reused(words: number, typeHash: Hex): Buffer {
  const buf = Buffer.alloc(words * WORD)
  fromHex(typeHash, 32).copy(buf)
  return buf
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

const transferWords = reused(6, TRANSFER_TYPEHASH)
const receiptWords = reused(4, RECEIPT_TYPEHASH)

/** Struct hashes of the Transfer objects hashed so far: the same object is hashed by several steps of a member. */
const transferHashes = new WeakMap<Transfer, Hex>()

export function hashTransfer(t: Transfer): Hex {
  let hash = transferHashes.get(t)
  if (hash === undefined) {
    hash = new Words(6, transferWords)
      .skip()
      .fixed(t.id, 16)
      .uint(t.epoch, 64)
      .address(t.from)
      .address(t.to)
      .uint(t.amount, 256)
      .hash()
    transferHashes.set(t, hash)
  }
  return hash
}

export function hashReceipt(r: Receipt): Hex {
  return new Words(4, receiptWords).skip().fixed(r.transfer, 32).uint(r.epoch, 64).uint(r.seq, 32).hash()
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

/**
 * The digest a signer signs, keccak256(0x1901 ++ domainSeparator ++ structHash), for one domain: the constant 34
 * leading bytes are laid out once.
 */
export class DigestOf {
  private readonly buf = Buffer.alloc(66)

  constructor(separator: Hex) {
    this.buf[0] = 0x19
    this.buf[1] = 0x01
    fromHex(separator, 32).copy(this.buf, 2)
  }

  of(structHash: Hex): Hex {
    // Reusing the buffer is safe: hashing is synchronous.
    if (structHash.length !== 66 || !structHash.startsWith('0x') || this.buf.write(structHash.slice(2), 34, 32, 'hex') !== 32) {
      throw new TypeError('a struct hash is 32 bytes of 0x hex')
    }
    return keccakHex(this.buf)
  }
}
