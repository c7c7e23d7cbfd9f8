// Signing and strict recovery of the channel's EIP-712 messages, bound to one channel's domain.
import { hexlify, randomBytes, type SigningKey } from 'ethers'
import { checksum } from './bytes.js'
import { recover, sign } from './fast-ecdsa.js'
import { domainSeparator, hashCheckpoint, hashReceipt, hashTransfer, typedDataDigest } from './eip712.js'
import type { ChannelDomain, Checkpoint, Hex, Receipt, Transfer } from './types.js'

/** Digests of the channel's messages under one domain (chain id and contract address). */
export class ChannelDigests {
  readonly separator: Hex

  constructor(readonly domain: ChannelDomain) {
    this.separator = domainSeparator(domain)
  }

  transfer(t: Transfer): Hex {
    return typedDataDigest(this.separator, hashTransfer(t))
  }

  /** The digest of a struct hash computed already (saves hashing a transfer twice on the hot path). */
  of(structHash: Hex): Hex {
    return typedDataDigest(this.separator, structHash)
  }

  receipt(r: Receipt): Hex {
    return typedDataDigest(this.separator, hashReceipt(r))
  }

  checkpoint(cp: Checkpoint): Hex {
    return typedDataDigest(this.separator, hashCheckpoint(cp))
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

export function randomTransferId(): Hex {
  return hexlify(randomBytes(16)) as Hex
}
