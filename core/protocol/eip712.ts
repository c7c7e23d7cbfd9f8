// EIP-712 hashing of the channel's messages with precomputed type hashes: one keccak over a fixed-width encoding per
// struct, instead of ethers' generic TypedDataEncoder (tests check both agree byte for byte).
import { concat, getAddress, getBytes, keccak256, toUtf8Bytes, zeroPadValue, toBeHex } from 'ethers'
import type { TypedDataDomain, TypedDataField } from 'ethers'
import type { ChannelDomain, Checkpoint, Hex, Receipt, Transfer } from './types.js'

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

/** One ABI word of an unsigned integer; out-of-range values throw rather than wrap. */
function uintWord(value: bigint | number, bits: number): Hex {
  const v = BigInt(value)
  if (v < 0n || v > (bits === 256 ? MAX_UINT256 : (1n << BigInt(bits)) - 1n)) {
    throw new RangeError(`value ${v} does not fit uint${bits}`)
  }
  return toBeHex(v, 32) as Hex
}

const addressWord = (a: string): Hex => zeroPadValue(getAddress(a), 32) as Hex

/** A bytesN value is left-aligned in its word. */
function fixedBytesWord(value: string, size: number): Hex {
  const b = getBytes(value)
  if (b.length !== size) throw new RangeError(`expected ${size} bytes, got ${b.length}`)
  const word = new Uint8Array(32)
  word.set(b)
  return concat([word]) as Hex
}

const uintArrayHash = (values: readonly bigint[]): Hex =>
  keccak256(values.length === 0 ? '0x' : concat(values.map((v) => uintWord(v, 256)))) as Hex

export function domainSeparator(domain: ChannelDomain): Hex {
  return keccak256(
    concat([
      DOMAIN_TYPEHASH,
      keccak256(toUtf8Bytes(DOMAIN_NAME)),
      keccak256(toUtf8Bytes(DOMAIN_VERSION)),
      uintWord(domain.chainId, 256),
      addressWord(domain.verifyingContract),
    ]),
  ) as Hex
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
  return keccak256(
    concat([
      TRANSFER_TYPEHASH,
      fixedBytesWord(t.id, 16),
      uintWord(t.epoch, 64),
      addressWord(t.from),
      addressWord(t.to),
      uintWord(t.amount, 256),
    ]),
  ) as Hex
}

export function hashReceipt(r: Receipt): Hex {
  return keccak256(
    concat([RECEIPT_TYPEHASH, fixedBytesWord(r.transfer, 32), uintWord(r.epoch, 64), uintWord(r.seq, 32)]),
  ) as Hex
}

export function hashCheckpoint(cp: Checkpoint): Hex {
  return keccak256(
    concat([
      CHECKPOINT_TYPEHASH,
      uintWord(cp.epoch, 64),
      uintWord(cp.leader, 32),
      uintWord(cp.nextLeader, 32),
      uintArrayHash(cp.balances),
      uintArrayHash(cp.deposited),
      uintWord(cp.exitMask, 256),
      fixedBytesWord(cp.txRoot, 32),
      uintWord(cp.txCount, 32),
    ]),
  ) as Hex
}

/** The digest a signer signs: keccak256(0x1901 ++ domainSeparator ++ structHash). */
export function typedDataDigest(separator: Hex, structHash: Hex): Hex {
  return keccak256(concat(['0x1901', separator, structHash])) as Hex
}
