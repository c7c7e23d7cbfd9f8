import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SigningKey, Wallet, hexlify, randomBytes, recoverAddress } from 'ethers'
import { backend, recover, sign } from './fast-ecdsa.js'
import type { Hex } from './types.js'

describe('fast ecdsa', () => {
  it('runs on libsecp256k1 here (the prebuilt binding loads)', () => {
    assert.equal(backend, 'libsecp256k1')
  })

  it('signs exactly as ethers does and recovers the same address', () => {
    for (let i = 0; i < 50; i++) {
      const wallet = Wallet.createRandom()
      const digest = hexlify(randomBytes(32)) as Hex
      const sig = sign(wallet.privateKey as Hex, digest)
      assert.equal(sig, new SigningKey(wallet.privateKey).sign(digest).serialized)
      assert.equal(recover(digest, sig), wallet.address.toLowerCase())
      assert.equal(recover(digest, sig), recoverAddress(digest, sig).toLowerCase())
    }
  })
})
