// Signing and strict recovery of the channel's EIP-712 messages, bound to one channel's domain.
import { SigningKey, getBytes, hexlify, randomBytes, recoverAddress } from 'ethers'
import { domainSeparator, hashCheckpoint, hashReceipt, hashTransfer, typedDataDigest } from './eip712.js'
import type { ChannelDomain, Checkpoint, Hex, Receipt, Transfer } from './types.js'

/** Half the secp256k1 group order: a signature with a larger s is malleable and the contract refuses it. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

/** Digests of the channel's messages under one domain (chain id and contract address). */
export class ChannelDigests {
  readonly separator: Hex

  constructor(readonly domain: ChannelDomain) {
    this.separator = domainSeparator(domain)
  }

  transfer(t: Transfer): Hex {
    return typedDataDigest(this.separator, hashTransfer(t))
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
  return key.sign(digest).serialized as Hex
}

/** The signer of `digest`, or null for a malformed or malleable signature (the same rule as the contract). */
export function recoverSigner(digest: Hex, signature: string): string | null {
  let bytes: Uint8Array
  try {
    bytes = getBytes(signature)
  } catch {
    return null
  }
  if (bytes.length !== 65) return null
  const v = bytes[64]
  const s = BigInt(hexlify(bytes.subarray(32, 64)))
  if ((v !== 27 && v !== 28) || s === 0n || s > HALF_ORDER) return null
  try {
    return recoverAddress(digest, hexlify(bytes))
  } catch {
    return null
  }
}

export function randomTransferId(): Hex {
  return hexlify(randomBytes(16)) as Hex
}
