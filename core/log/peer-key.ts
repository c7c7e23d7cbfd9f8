// A member's per-channel ed25519 peer key (sodium-native): its Hyperswarm identity and the key pair of its trade
// log. Registered on chain at join as bytes32.
import sodium from 'sodium-native'
import type { Hex } from '../protocol/types.js'

export interface PeerKeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

export function createPeerKey(seed?: Buffer): PeerKeyPair {
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES)
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES)
  if (seed) {
    if (seed.length !== sodium.crypto_sign_SEEDBYTES) throw new RangeError('a peer key seed is 32 bytes')
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
  } else {
    sodium.crypto_sign_keypair(publicKey, secretKey)
  }
  return { publicKey, secretKey }
}

/** The form the channel contract stores. */
export function peerKeyHex(publicKey: Buffer): Hex {
  return `0x${publicKey.toString('hex')}`
}

export function peerKeyFromHex(hex: string): Buffer {
  const b = Buffer.from(hex.replace(/^0x/, ''), 'hex')
  if (b.length !== 32) throw new RangeError('a peer key is 32 bytes')
  return b
}
