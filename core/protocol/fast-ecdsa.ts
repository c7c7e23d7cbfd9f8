// The hot path's signatures through libsecp256k1 (the `secp256k1` package's N-API binding, prebuilt inside the
// package): about 30x the recoveries per second of ethers' JavaScript. Where the binding cannot load, ethers does
// the same work, slower; `backend` says which one runs.
import { createRequire } from 'node:module'
import { SigningKey, recoverAddress } from 'ethers'
import { fromHex, keccak } from './bytes.js'
import type { Hex } from './types.js'

interface Native {
  ecdsaSign(msg: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number }
  ecdsaRecover(sig: Uint8Array, recid: number, msg: Uint8Array, compressed: boolean): Uint8Array
}

function loadNative(): Native | null {
  try {
    // The binding itself, not the package entry: that one silently falls back to a slow pure-JS elliptic.
    return createRequire(import.meta.url)('secp256k1/bindings') as Native
  } catch {
    return null
  }
}

const native = loadNative()
export const backend: 'libsecp256k1' | 'ethers' = native ? 'libsecp256k1' : 'ethers'

/** Half the group order: a signature with a larger s is malleable and the contract refuses it. */
const HALF_ORDER = Buffer.from('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 'hex')
const ZERO = Buffer.alloc(32)

/** Signs a 32-byte digest: 65 bytes r ++ s ++ v with low s and v in {27, 28}, as the contract accepts. */
export function sign(privateKey: Hex, digest: Hex): Hex {
  if (!native) return new SigningKey(privateKey).sign(digest).serialized as Hex
  const { signature, recid } = native.ecdsaSign(fromHex(digest, 32), fromHex(privateKey, 32)) // low s
  return `0x${Buffer.from(signature).toString('hex')}${(27 + recid).toString(16)}`
}

/** Addresses of the public keys recovered so far: a channel's few members sign over and over. */
const addresses = new Map<string, string>()

function addressOf(uncompressed: Uint8Array): string {
  const key = Buffer.from(uncompressed.buffer, uncompressed.byteOffset + 1, 64).toString('latin1')
  let address = addresses.get(key)
  if (address === undefined) {
    address = `0x${keccak(uncompressed.subarray(1)).subarray(12).toString('hex')}`
    if (addresses.size >= 1024) addresses.clear() // garbage signatures recover to random keys: keep the map small
    addresses.set(key, address)
  }
  return address
}

/**
 * The signer's address in lower case (compare it with lowercased addresses), or null for a malformed or malleable
 * signature (the contract's rule).
 */
export function recover(digest: Hex, signature: string): string | null {
  let sig: Buffer
  let msg: Buffer
  try {
    sig = fromHex(signature, 65)
    msg = fromHex(digest, 32)
  } catch {
    return null
  }
  const v = sig[64] as number
  const s = sig.subarray(32, 64)
  if ((v !== 27 && v !== 28) || s.equals(ZERO) || Buffer.compare(s, HALF_ORDER) > 0) return null
  try {
    if (!native) return recoverAddress(digest, signature).toLowerCase()
    return addressOf(native.ecdsaRecover(sig.subarray(0, 64), v - 27, msg, false))
  } catch {
    return null
  }
}
