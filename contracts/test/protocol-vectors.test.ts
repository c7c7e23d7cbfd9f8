// TypeScript and the contract must hash and sign byte for byte alike, and agree with ethers' generic EIP-712 encoder.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TypedDataEncoder, Wallet, hexlify, randomBytes } from 'ethers'
import {
  ChannelDigests,
  TYPES,
  domainSeparator,
  ethersDomain,
  hashCheckpoint,
  hashReceipt,
  hashTransfer,
  merkleRoot,
  recoverSigner,
  signDigest,
  type Checkpoint,
  type Hex,
  type Transfer,
} from '../../core/protocol/index.js'
import { highS, openChannel, useDevnet } from './fixture.js'

const rand = (bytes: number): Hex => hexlify(randomBytes(bytes)) as Hex
const randUint = (bytes: number): bigint => BigInt(rand(bytes))

/** A random transfer whose amount takes `amountBytes` bytes (small amounts and large ones are encoded differently). */
function randomTransfer(amountBytes = 32): Transfer {
  return { id: rand(16), epoch: randUint(8), from: Wallet.createRandom().address, to: Wallet.createRandom().address, amount: randUint(amountBytes) }
}

function randomCheckpoint(n: number): Checkpoint {
  return {
    epoch: randUint(8),
    leader: Number(randUint(4)),
    nextLeader: Number(randUint(4)),
    balances: Array.from({ length: n }, () => randUint(12)),
    deposited: Array.from({ length: n }, () => randUint(12)),
    exitMask: randUint(8),
    txRoot: rand(32),
    txCount: Number(randUint(4)),
  }
}

describe('protocol vectors', () => {
  const devnet = useDevnet()

  it('TypeScript struct hashes and digests equal ethers TypedDataEncoder', () => {
    const domain = { chainId: 31337n, verifyingContract: Wallet.createRandom().address }
    const d = ethersDomain(domain)
    assert.equal(domainSeparator(domain), TypedDataEncoder.hashDomain(d))
    const digests = new ChannelDigests(domain)
    for (let i = 0; i < 32; i++) {
      const t = randomTransfer(1 + i)
      assert.equal(hashTransfer(t), TypedDataEncoder.hashStruct('Transfer', { Transfer: TYPES.Transfer }, t))
      assert.equal(digests.transfer(t), TypedDataEncoder.hash(d, { Transfer: TYPES.Transfer }, t))
      const r = { transfer: rand(32), epoch: randUint(8), seq: Number(randUint(4)) }
      assert.equal(digests.receipt(r), TypedDataEncoder.hash(d, { Receipt: TYPES.Receipt }, r))
      const cp = randomCheckpoint(i % 7)
      assert.equal(digests.checkpoint(cp), TypedDataEncoder.hash(d, { Checkpoint: TYPES.Checkpoint }, cp))
    }
    for (const amount of [1n, (1n << 64n) - 1n, 1n << 64n, (1n << 256n) - 1n]) {
      const t = { ...randomTransfer(), amount }
      assert.equal(hashTransfer(t), TypedDataEncoder.hashStruct('Transfer', { Transfer: TYPES.Transfer }, t))
    }
    assert.throws(() => hashTransfer({ ...randomTransfer(), amount: 1n << 256n }), RangeError)
    assert.throws(() => hashTransfer({ ...randomTransfer(), id: '0x1234' }), RangeError)
    assert.throws(() => hashTransfer({ ...randomTransfer(), id: `0x${'zz'.repeat(16)}` }), TypeError)
  })

  it('the contract computes the same hashes, digests and Merkle roots as TypeScript', async () => {
    const f = await openChannel(devnet(), { members: 2 })
    const digests = f.digests
    assert.equal(await f.channel.domainSeparator(), digests.separator)
    for (let i = 0; i < 5; i++) {
      const t = randomTransfer()
      assert.equal(await f.channel.hashTransfer(t), hashTransfer(t))
      const r = { transfer: rand(32), epoch: randUint(8), seq: Number(randUint(4)) }
      assert.equal(await f.channel.hashReceipt(r.transfer, r.epoch, r.seq), hashReceipt(r))
      const cp = randomCheckpoint(i * 3)
      const h = hashCheckpoint(cp)
      assert.equal(await f.channel.hashCheckpoint(cp), h)
      assert.equal(await f.channel.typedDataDigest(h), digests.checkpoint(cp))
    }
    for (let n = 0; n <= 17; n++) {
      const leaves = Array.from({ length: n }, () => rand(32))
      assert.equal(await f.channel.merkleRoot(leaves), merkleRoot(leaves), `${n} leaves`)
    }
  })

  it('a signature made with ethers signTypedData is the one signDigest makes and recoverSigner accepts', async () => {
    const wallet = Wallet.createRandom()
    const domain = { chainId: 5n, verifyingContract: Wallet.createRandom().address }
    const t = randomTransfer()
    const viaEthers = await wallet.signTypedData(ethersDomain(domain), { Transfer: TYPES.Transfer }, t)
    const digest = new ChannelDigests(domain).transfer(t)
    assert.equal(signDigest(wallet.signingKey, digest), viaEthers)
    assert.equal(recoverSigner(digest, viaEthers), wallet.address)
  })

  it('recoverSigner refuses malformed and malleable signatures, as the contract does', () => {
    const wallet = Wallet.createRandom()
    const digest = rand(32)
    const sig = signDigest(wallet.signingKey, digest)
    assert.equal(recoverSigner(digest, sig.slice(0, -2)), null, 'too short')
    assert.equal(recoverSigner(digest, `${sig}00`), null, 'too long')
    assert.equal(recoverSigner(digest, 'not hex'), null, 'not hex')
    assert.equal(recoverSigner(digest, `${sig.slice(0, -2)}05`), null, 'bad v')
    assert.equal(recoverSigner(digest, highS(sig)), null, 'high s')
  })
})
