// The hot path's signatures through libsecp256k1 (the `secp256k1` package's N-API binding, prebuilt inside the
// package): about 30x the recoveries per second of ethers' JavaScript. Where the binding cannot load, ethers does
// the same work, slower; `backend` says which one runs.
import { createRequire } from 'node:module'
import { SigningKey, getBytes, hexlify, keccak256, recoverAddress, getAddress } from 'ethers'
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
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

/** Signs a 32-byte digest: 65 bytes r ++ s ++ v with low s and v in {27, 28}, as the contract accepts. */
export function sign(privateKey: Hex, digest: Hex): Hex {
  if (!native) return new SigningKey(privateKey).sign(digest).serialized as Hex
  const { signature, recid } = native.ecdsaSign(getBytes(digest), getBytes(privateKey)) // libsecp256k1 emits low s
  const out = new Uint8Array(65)
  out.set(signature)
  out[64] = 27 + recid
  return hexlify(out) as Hex
}

/** The signer's address, or null for a malformed or malleable signature (the contract's rule). */
export function recover(digest: Hex, signature: string): string | null {
  let bytes: Uint8Array
  try {
    bytes = getBytes(signature)
  } catch {
    return null
  }
  if (bytes.length !== 65) return null
  const v = bytes[64] as number
  const s = BigInt(hexlify(bytes.subarray(32, 64)))
  if ((v !== 27 && v !== 28) || s === 0n || s > HALF_ORDER) return null
  try {
    if (!native) return recoverAddress(digest, hexlify(bytes))
    const pub = native.ecdsaRecover(bytes.subarray(0, 64), v - 27, getBytes(digest), false)
    return getAddress(`0x${keccak256(pub.subarray(1)).slice(-40)}`)
  } catch {
    return null
  }
}
