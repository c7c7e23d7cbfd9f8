// Signing and strict recovery of the channel's EIP-712 messages, bound to one channel's domain.
import { randomFillSync } from 'node:crypto'
import { computeAddress, type SigningKey } from 'ethers'
import { checksum } from './bytes.js'
import { recover, sign } from './fast-ecdsa.js'
import { DigestOf, domainSeparator, hashCheckpoint, hashReceipt, hashTransfer } from './eip712.js'
import type { ChannelDomain, Checkpoint, Hex, Receipt, Transfer } from './types.js'

/** Digests of the channel's messages under one domain (chain id and contract address). */
export class ChannelDigests {
  readonly separator: Hex
  private readonly digest: DigestOf
  private readonly transfers = new WeakMap<Transfer, Hex>()

  constructor(readonly domain: ChannelDomain) {
    this.separator = domainSeparator(domain)
    this.digest = new DigestOf(this.separator)
  }

  /** Remembered per Transfer object: sender, receiver and leader each need it more than once. */
  transfer(t: Transfer): Hex {
    let d = this.transfers.get(t)
    if (d === undefined) this.transfers.set(t, (d = this.digest.of(hashTransfer(t))))
    return d
  }

  /** The digest of a struct hash computed already (saves hashing a transfer twice on the hot path). */
  of(structHash: Hex): Hex {
    return this.digest.of(structHash)
  }

  receipt(r: Receipt): Hex {
    return this.digest.of(hashReceipt(r))
  }

  checkpoint(cp: Checkpoint): Hex {
    return this.digest.of(hashCheckpoint(cp))
  }
}

/** A 65-byte r ++ s ++ v signature with low s and v in {27, 28}, as the contract accepts. */
export function signDigest(key: SigningKey, digest: Hex): Hex {
  return sign(key.privateKey as Hex, digest)
}

/** The signer of `digest`, or null for a malformed or malleable signature (the same rule as the contract). */
export function recoverSigner(digest: Hex, signature: string): string | null {
  const signer = recover(digest, signature)
  return signer && checksum(signer)
}

/** The checksummed account address of a private key. */
export function accountOf(privateKey: Hex): string {
  return checksum(computeAddress(privateKey))
}

/** Random bytes drawn in blocks: one system call per 256 ids instead of one each. */
const pool = Buffer.alloc(4096)
let used = pool.length

export function randomTransferId(): Hex {
  if (used === pool.length) (randomFillSync(pool), (used = 0))
  used += 16
  return `0x${pool.toString('hex', used - 16, used)}`
}
