// The epoch ledger alone: every rejection, replay by members, and randomized runs that keep money conserved.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Wallet, hexlify, randomBytes } from 'ethers'
import {
  ChannelDigests,
  hashReceipt,
  hashTransfer,
  merkleRoot,
  randomTransferId,
  signDigest,
  type ReceiptedTransfer,
  type Transfer,
} from '../protocol/index.js'
import { recover } from '../protocol/fast-ecdsa.js'
import { EpochLedger, type EpochOpening, type RejectionCode } from './epoch-ledger.js'

const digests = new ChannelDigests({ chainId: 31337n, verifyingContract: Wallet.createRandom().address })
const sigs = { digests, recover }
const wallets = Array.from({ length: 4 }, () => new Wallet(hexlify(randomBytes(32))))
const outsider = new Wallet(hexlify(randomBytes(32)))

function opening(over: Partial<EpochOpening> = {}): EpochOpening {
  return {
    epoch: 3n,
    leader: 0,
    members: wallets.map((w) => w.address),
    exited: [false, false, false, false],
    balances: [100n, 100n, 100n, 100n],
    txCap: 5,
    ...over,
  }
}

function signed(from: Wallet, to: Wallet, amount: bigint, over: Partial<Transfer> = {}) {
  const transfer: Transfer = { id: randomTransferId(), epoch: 3n, from: from.address, to: to.address, amount, ...over }
  const d = digests.transfer(transfer)
  return { transfer, senderSig: signDigest(from.signingKey, d), receiverSig: signDigest(to.signingKey, d) }
}

function receipted(leader: Wallet, s: ReturnType<typeof signed>, seq: number): ReceiptedTransfer {
  const leaderSig = signDigest(leader.signingKey, digests.receipt({ transfer: hashTransfer(s.transfer), epoch: s.transfer.epoch, seq }))
  return { ...s, seq, leaderSig }
}

function expectRejected(result: { ok: boolean; rejection?: { code: RejectionCode } }, code: RejectionCode): void {
  assert.equal(result.ok, false)
  assert.equal(result.rejection?.code, code)
}

const [a, b, c, d] = wallets as [Wallet, Wallet, Wallet, Wallet]

describe('epoch ledger', () => {
  it('admits a doubly signed transfer: seq, balances, root', () => {
    const l = new EpochLedger(opening(), sigs)
    const s = signed(a, b, 30n)
    const r = l.admit(s.transfer, s.senderSig, s.receiverSig)
    assert.ok(r.ok)
    assert.equal(r.value.seq, 0)
    assert.equal(l.balanceOf(0), 70n)
    assert.equal(l.balanceOf(1), 130n)
    const cp = l.checkpoint({ nextLeader: 1, deposited: [100n, 100n, 100n, 100n], prevDeposited: [100n, 100n, 100n, 100n], exitMask: 0n })
    assert.deepEqual(cp.balances, [70n, 130n, 100n, 100n])
    assert.equal(cp.txCount, 1)
    assert.equal(cp.txRoot, merkleRoot([hashReceipt({ transfer: hashTransfer(s.transfer), epoch: 3n, seq: 0 })]))
  })

  it('refuses, with nothing changed: wrong epoch, non-member, exited, self, zero, bad signatures, duplicate, overdraft, cap, closed', () => {
    const l = new EpochLedger(opening({ exited: [false, false, false, true] }), sigs)
    const s0 = signed(a, b, 10n)
    assert.ok(l.admit(s0.transfer, s0.senderSig, s0.receiverSig).ok)
    const before = [0, 1, 2, 3].map((i) => l.balanceOf(i))
    const cases: Array<[RejectionCode, ReturnType<typeof signed>]> = [
      ['WRONG_EPOCH', signed(a, b, 1n, { epoch: 2n })],
      ['NOT_MEMBER', signed(outsider, b, 1n)],
      ['NOT_MEMBER', signed(a, outsider, 1n)],
      ['MEMBER_EXITED', signed(d, a, 1n)],
      ['SELF_TRANSFER', signed(a, a, 1n)],
      ['ZERO_AMOUNT', signed(a, b, 0n)],
      ['BAD_SENDER_SIGNATURE', { ...signed(a, b, 1n), senderSig: signed(c, b, 1n).senderSig }],
      ['BAD_RECEIVER_SIGNATURE', { ...signed(a, b, 1n), receiverSig: signed(a, c, 1n).receiverSig }],
      ['DUPLICATE_ID', s0],
      ['OVERDRAFT', signed(a, c, 91n)],
    ]
    for (const [code, s] of cases) {
      expectRejected(l.admit(s.transfer, s.senderSig, s.receiverSig), code)
      assert.deepEqual([0, 1, 2, 3].map((i) => l.balanceOf(i)), before, `${code} changed balances`)
      assert.equal(l.seq, 1, `${code} changed seq`)
    }
    for (let i = 0; i < 4; i++) {
      const s = signed(c, b, 1n)
      assert.ok(l.admit(s.transfer, s.senderSig, s.receiverSig).ok)
    }
    const capped = signed(b, c, 1n) // b has been part of 5 transfers
    expectRejected(l.admit(capped.transfer, capped.senderSig, capped.receiverSig), 'CAP_REACHED')
    assert.equal(l.capReached, true)
    l.close()
    const late = signed(a, c, 1n)
    expectRejected(l.admit(late.transfer, late.senderSig, late.receiverSig), 'CLOSED')
  })

  it('a receiver checks the sender\'s signature and funds before countersigning', () => {
    const l = new EpochLedger(opening(), sigs)
    const s = signed(a, b, 101n)
    assert.equal(l.checkRequest(s.transfer, s.senderSig)?.code, 'OVERDRAFT')
    const t = signed(a, b, 5n)
    assert.equal(l.checkRequest(t.transfer, signed(c, b, 5n).senderSig)?.code, 'BAD_SENDER_SIGNATURE')
    assert.equal(l.checkRequest(t.transfer, t.senderSig), null)
  })

  it('members replaying the leader\'s receipts reach the same checkpoint; a bad seq or leader signature is refused', () => {
    const leader = new EpochLedger(opening(), sigs)
    const member = new EpochLedger(opening(), sigs)
    const pairs: Array<[Wallet, Wallet]> = [[a, b], [b, c], [c, d], [d, a], [a, c]]
    for (const [from, to] of pairs) {
      const s = signed(from, to, 7n)
      const r = leader.admit(s.transfer, s.senderSig, s.receiverSig)
      assert.ok(r.ok)
      const tx = receipted(a, s, r.value.seq)
      leader.attachReceipt(r.value.seq, tx.leaderSig)
      expectRejected(member.applyReceipt({ ...tx, seq: tx.seq + 1 }), 'WRONG_SEQ')
      assert.ok(member.applyReceipt(tx).ok)
    }
    const next = { nextLeader: 1, deposited: [100n, 100n, 100n, 150n], prevDeposited: [100n, 100n, 100n, 100n], exitMask: 0n }
    assert.deepEqual(member.checkpoint(next), leader.checkpoint(next))
    assert.deepEqual(leader.checkpoint(next).balances, [93n, 100n, 107n, 150n], 'a new deposit of 50 is credited')
    assert.deepEqual(member.involving(0).map((t) => t.seq), [0, 3, 4])
    assert.deepEqual(member.receipts(), leader.receipts())
  })

  it('a refused receipt (forged by the leader) uses up its seq: later receipts apply, the root and balances differ', () => {
    const honest = new EpochLedger(opening(), sigs)
    const s1 = signed(b, c, 5n)
    const forged = { ...receipted(a, s1, 0), senderSig: signDigest(a.signingKey, digests.transfer(s1.transfer)) }
    expectRejected(honest.applyReceipt(forged), 'BAD_SENDER_SIGNATURE')
    expectRejected(honest.applyReceipt(receipted(b, signed(c, d, 1n), 1)), 'BAD_LEADER_SIGNATURE')
    const s3 = signed(c, d, 2n)
    assert.ok(honest.applyReceipt(receipted(a, s3, 2)).ok)
    assert.equal(honest.seq, 3)
    assert.deepEqual([1, 2, 3].map((i) => honest.balanceOf(i)), [100n, 98n, 102n])
    // A member not party to a transfer does not check its signatures: the forged one applies there.
    const bystander = new EpochLedger(opening(), sigs)
    assert.ok(bystander.applyReceipt(forged, false).ok)
    assert.equal(bystander.balanceOf(1), 95n)
  })

  it('randomized: money is conserved, nothing goes negative, replay agrees (300 transfers, some invalid)', () => {
    const leader = new EpochLedger(opening({ txCap: 1000 }), sigs)
    const member = new EpochLedger(opening({ txCap: 1000 }), sigs)
    let rejected = 0
    for (let i = 0; i < 300; i++) {
      const from = wallets[i % 4] as Wallet
      const to = wallets[(i * 7 + 1) % 4] as Wallet
      const amount = BigInt(1 + ((i * 37) % 60))
      const s = signed(from, to, amount)
      const r = leader.admit(s.transfer, s.senderSig, s.receiverSig)
      if (!r.ok) {
        rejected++
        continue
      }
      assert.ok(member.applyReceipt(receipted(a, s, r.value.seq)).ok)
    }
    const total = [0, 1, 2, 3].reduce((sum, i) => sum + leader.balanceOf(i), 0n)
    assert.equal(total, 400n)
    for (let i = 0; i < 4; i++) assert.ok(leader.balanceOf(i) >= 0n)
    assert.ok(rejected > 0, 'some transfers were invalid')
    const next = { nextLeader: 1, deposited: [100n, 100n, 100n, 100n], prevDeposited: [100n, 100n, 100n, 100n], exitMask: 0n }
    assert.deepEqual(member.checkpoint(next), leader.checkpoint(next))
  })
})

