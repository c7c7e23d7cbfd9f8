import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { Wallet, keccak256 } from 'ethers'
import { checksum, fromHex, keccak, keccakBackend, toHex } from './bytes.js'

describe('bytes', () => {
  it('keccak runs natively here and equals ethers for every length, including across the rate boundary', () => {
    assert.equal(keccakBackend, 'native')
    for (let n = 0; n < 300; n++) {
      const b = randomBytes(n)
      assert.equal(toHex(keccak(b)), keccak256(b))
      assert.equal(toHex(keccak(new Uint8Array(b))), keccak256(b), 'plain Uint8Array views too')
    }
  })

  it('fromHex refuses what is not exactly 0x-prefixed whole bytes of hex', () => {
    assert.deepEqual(fromHex('0x00ff', 2), Buffer.from([0, 255]))
    for (const bad of ['00ff', '0x0', '0xzz', '0x00fg', 'x0ff']) assert.throws(() => fromHex(bad), TypeError, bad)
    assert.throws(() => fromHex('0x00', 2), RangeError)
  })

  it('checksum memoizes without accepting a wrong checksum', () => {
    const a = Wallet.createRandom().address
    assert.equal(checksum(a.toLowerCase()), a)
    assert.equal(checksum(a), a)
    const wrong = a.slice(0, 2) + [...a.slice(2)].map((ch) => (/[a-f]/.test(ch) ? ch.toUpperCase() : /[A-F]/.test(ch) ? ch.toLowerCase() : ch)).join('')
    if (wrong !== a && wrong.toLowerCase() !== wrong) assert.throws(() => checksum(wrong))
  })
})
