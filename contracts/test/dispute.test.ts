// Every branch of the dispute decision, each from real signed transfers on a real chain, and the refusals around it.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { hashTransfer, signDigest, type ReceiptedTransfer } from '../../core/protocol/index.js'
import { assertRevert, openChannel, plainCheckpoint, txSummary, useDevnet, type ChannelFixture } from './fixture.js'

const E = (n: string): bigint => parseEther(n)
const WINDOW = 3600n
const CHALLENGER = 0
const LEADER = 1

/**
 * Three members with 10 ether each, epoch 1 checkpointed, epoch 2 led by member 1 with four receipted transfers,
 * three of which involve member 0 (the challenger in these tests).
 */
async function epochUnderDispute(devnet: Parameters<typeof openChannel>[0]) {
  const f = await openChannel(devnet, { members: 3, params: { responseWindow: WINDOW } })
  const cp1 = await f.checkpointDeposits()
  const tx = (from: number, to: number, amount: string, seq: number) =>
    f.receipted({ epoch: 2n, from, to, amount: E(amount), leader: LEADER, seq })
  const all = [tx(0, 1, '2', 0), tx(2, 0, '1', 1), tx(1, 2, '4', 2), tx(0, 2, '1', 3)]
  const mine = [all[0]!, all[1]!, all[3]!]
  const final = [E('8'), E('10') + E('2') - E('4'), E('10') - E('1') + E('4') + E('1')]
  const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2, balances: final, ...txSummary(all) })
  return { f, cp1, all, mine, cp2 }
}

/** A copy of a receipted transfer whose `which` signature is made by the wrong member. */
function forged(f: ChannelFixture, t: ReceiptedTransfer, which: 'senderSig' | 'leaderSig', by: number): ReceiptedTransfer {
  const digest =
    which === 'senderSig'
      ? f.digests.transfer(t.transfer)
      : f.digests.receipt({ transfer: hashTransfer(t.transfer), epoch: t.transfer.epoch, seq: t.seq })
  return { ...t, [which]: signDigest(f.member(by).key, digest) }
}

async function verdict(f: ChannelFixture): Promise<boolean> {
  const r = await f.channel.resolve()
  const ev = r.events.find((e) => e.type === 'DisputeResolved')
  assert.ok(ev && ev.type === 'DisputeResolved')
  return ev.leaderRight
}

describe('dispute', () => {
  const devnet = useDevnet()

  it('equal lists: the leader is right and its checkpoint lands without the challenger, balance computed on chain', async () => {
    const { f, cp1, mine, cp2 } = await epochUnderDispute(devnet())
    const c = await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER))
    assert.ok(c.events.some((e) => e.type === 'Challenged' && e.count === 3))
    await assertRevert(f.as(0).submitCheckpoint(cp2, f.sign(cp2)), 'DisputePending')
    await f.as(LEADER).respond(mine)
    assert.equal(await verdict(f), true)
    assert.equal((await f.channel.status()).disputePhase, 'leader-won')

    const prev = { balances: cp1.balances, deposited: cp1.deposited }
    const sigs = f.sign(cp2, [1, 2])
    const wrong = { ...cp2, balances: [E('9'), cp2.balances[1]!, cp2.balances[2]! - E('1')] }
    await assertRevert(f.as(LEADER).submitContestedCheckpoint(wrong, f.sign(wrong, [1, 2]), prev), 'ChallengerBalanceMismatch')
    await assertRevert(f.as(LEADER).submitContestedCheckpoint(cp2, sigs, { ...prev, balances: [0n, 0n, 0n] }), 'StateMismatch')
    await assertRevert(f.as(LEADER).submitCheckpoint(cp2, sigs), 'BadSignature')
    await f.as(LEADER).submitContestedCheckpoint(cp2, sigs, prev)
    const status = await f.channel.status()
    assert.equal(status.checkpointedEpoch, 2n)
    assert.equal(status.disputePhase, 'none')
    assert.equal(status.leader, 2)
  })

  it('challenger hides a transfer: the leader is right', async () => {
    const { f, mine } = await epochUnderDispute(devnet())
    await f.as(CHALLENGER).challenge(2n, LEADER, mine.slice(1), f.led(2n, LEADER)) // hides its outgoing 2 ether
    await f.as(LEADER).respond(mine)
    assert.equal(await verdict(f), true)
    assert.equal((await f.channel.dispute()).challengerNet, E('-2'))
  })

  it('challenger forges a signature: the leader is right', async () => {
    const { f, mine, all } = await epochUnderDispute(devnet())
    // An incoming transfer the sender never signed (the challenger signed in its place).
    const fake = forged(f, f.receipted({ epoch: 2n, from: 2, to: 0, amount: E('5'), leader: LEADER, seq: 4 }), 'senderSig', 0)
    await f.as(CHALLENGER).challenge(2n, LEADER, [...mine, fake], f.led(2n, LEADER))
    await f.as(LEADER).respond(mine)
    assert.equal(await verdict(f), true)
    assert.equal(all.length, 4)
  })

  it('leader omits a receipted transfer: the challenger is right, the epoch restarts under the next leader', async () => {
    const { f, cp1, mine } = await epochUnderDispute(devnet())
    await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER))
    await f.as(LEADER).respond([mine[0]!, mine[2]!]) // drops the 1 ether paid to the challenger
    assert.equal(await verdict(f), false)
    const status = await f.channel.status()
    assert.equal(status.checkpointedEpoch, 1n, 'rolled back to the last checkpoint')
    assert.equal(status.leader, 2, 'next in rotation')
    assert.equal(status.disputePhase, 'none')

    // The losing leader may not checkpoint epoch 2; the new leader can.
    const byLoser = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2 })
    await assertRevert(f.as(LEADER).submitCheckpoint(byLoser, f.sign(byLoser)), 'InvalidLeader')
    const restarted = plainCheckpoint(2n, cp1.deposited, { leader: 2, nextLeader: 0 })
    await f.as(2).submitCheckpoint(restarted, f.sign(restarted))
    assert.equal((await f.channel.bannedLeaders()), 0n, 'the ban ends with the epoch')
  })

  it('leader inserts a forged transfer: the challenger is right', async () => {
    const { f, mine } = await epochUnderDispute(devnet())
    const fake = forged(f, f.receipted({ epoch: 2n, from: 0, to: 1, amount: E('5'), leader: LEADER, seq: 2 }), 'senderSig', 1)
    await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER))
    await f.as(LEADER).respond([mine[0]!, mine[1]!, fake, mine[2]!])
    assert.equal(await verdict(f), false)
  })

  it('a leader list carrying transfers of another epoch is bad: the challenger is right', async () => {
    const { f, mine } = await epochUnderDispute(devnet())
    // A transfer of epoch 1, receipted by the leader for the disputed epoch 2: every signature checks out against
    // the disputed epoch's leaf, so only the transfer's own epoch makes it bad.
    const signed = f.receipted({ epoch: 1n, from: 0, to: 1, amount: E('1'), leader: LEADER, seq: 4 })
    const receipt = f.digests.receipt({ transfer: hashTransfer(signed.transfer), epoch: 2n, seq: signed.seq })
    const old: ReceiptedTransfer = { ...signed, leaderSig: signDigest(f.member(LEADER).key, receipt) }
    await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER))
    await f.as(LEADER).respond([...mine, old])
    assert.equal(await verdict(f), false, 'a bad leader entry from the first difference on')
  })

  it('leader answers with the challenger\'s own list but a garbage signature on an incoming payment: the challenger is right', async () => {
    const { f, mine } = await epochUnderDispute(devnet())
    await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER))
    // The same receipts, but the 1 ether paid to the challenger carries a sender signature nobody can check:
    // equal receipt hashes, so a leaf without the signatures would make the roots equal and the leader right.
    const garbled = { ...mine[1]!, senderSig: `0x${'ab'.repeat(65)}` as const }
    await f.as(LEADER).respond([mine[0]!, garbled, mine[2]!])
    assert.equal(await verdict(f), false)
  })

  it('leader omits an incoming payment and receipts an outgoing one twice (same length): the challenger is right', async () => {
    const { f, mine } = await epochUnderDispute(devnet())
    await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER))
    const [out, , out2] = mine as [ReceiptedTransfer, ReceiptedTransfer, ReceiptedTransfer]
    const again: ReceiptedTransfer = {
      ...out,
      seq: 4,
      leaderSig: signDigest(f.member(LEADER).key, f.digests.receipt({ transfer: hashTransfer(out.transfer), epoch: 2n, seq: 4 })),
    }
    await f.as(LEADER).respond([out, out2, again]) // drops the 1 ether in, takes the 2 ether out twice
    assert.equal(await verdict(f), false)
  })

  it('a challenger list carrying one transfer twice is bad: the leader is right', async () => {
    const { f, mine } = await epochUnderDispute(devnet())
    const [, incoming] = mine as [ReceiptedTransfer, ReceiptedTransfer, ReceiptedTransfer]
    const again: ReceiptedTransfer = {
      ...incoming,
      seq: 4,
      leaderSig: signDigest(f.member(LEADER).key, f.digests.receipt({ transfer: hashTransfer(incoming.transfer), epoch: 2n, seq: 4 })),
    }
    await f.as(CHALLENGER).challenge(2n, LEADER, [...mine, again], f.led(2n, LEADER)) // claims the 1 ether twice
    await f.as(LEADER).respond(mine)
    assert.equal(await verdict(f), true)
  })

  it('a member that did not lead the epoch cannot be challenged, so it is never banned', async () => {
    const { f, mine, cp2 } = await epochUnderDispute(devnet())
    const other = 2
    // The real leader's proposal does not show that member 2 led; nor does a proposal the challenger made up and
    // signed itself, nor one member 2 signed for another epoch.
    await assertRevert(f.as(CHALLENGER).challenge(2n, other, mine, f.led(2n, LEADER, cp2)), 'NotEpochLeader')
    const madeUp = { ...cp2, leader: other }
    const signedByChallenger = { checkpoint: madeUp, sig: signDigest(f.member(CHALLENGER).key, f.digests.checkpoint(madeUp)) }
    await assertRevert(f.as(CHALLENGER).challenge(2n, other, mine, signedByChallenger), 'NotEpochLeader')
    await assertRevert(f.as(CHALLENGER).challenge(2n, other, mine, f.led(1n, other)), 'NotEpochLeader')
    // The epoch's leader, shown by its own signed proposal, can be.
    await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER, cp2))
    assert.equal((await f.channel.dispute()).leader, LEADER)
  })

  it('leader silent past the response window: the challenger is right; a late response is refused', async () => {
    const { f, mine } = await epochUnderDispute(devnet())
    await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER))
    await assertRevert(f.channel.resolve(), 'ResponseWindowOpen')
    await devnet().increaseTime(Number(WINDOW) + 1)
    await assertRevert(f.as(LEADER).respond(mine), 'ResponseWindowOver')
    assert.equal(await verdict(f), false)
    assert.equal((await f.channel.status()).leader, 2)
  })

  it('refuses a non-member challenge, a second dispute, a response by anyone but the leader, and a second resolve', async () => {
    const { f, mine } = await epochUnderDispute(devnet())
    const outsider = f.outsiders[0]
    assert.ok(outsider)
    await assertRevert(f.channel.as(outsider).challenge(2n, LEADER, mine, f.led(2n, LEADER)), 'NotMember')
    await assertRevert(f.as(CHALLENGER).challenge(1n, LEADER, mine, f.led(1n, LEADER)), 'WrongEpoch')
    await assertRevert(f.as(CHALLENGER).challenge(2n, CHALLENGER, mine, f.led(2n, CHALLENGER)), 'InvalidLeader')
    await f.as(CHALLENGER).challenge(2n, LEADER, mine, f.led(2n, LEADER))
    await assertRevert(f.as(2).challenge(2n, LEADER, [], f.led(2n, LEADER)), 'DisputePending')
    await assertRevert(f.as(2).respond(mine), 'NotDisputedLeader')
    await f.as(LEADER).respond(mine)
    await assertRevert(f.as(LEADER).respond(mine), 'NoOpenDispute')
    await f.channel.resolve()
    await assertRevert(f.channel.resolve(), 'NoOpenDispute')
  })

  it('refuses a list longer than the per-epoch cap', async () => {
    const f = await openChannel(devnet(), { members: 2, params: { txCap: 2 } })
    const txs = [0, 1, 2].map((seq) => f.receipted({ epoch: 1n, from: 1, to: 0, amount: 1n, leader: 1, seq }))
    await assertRevert(f.as(0).challenge(1n, 1, txs, f.led(1n, 1)), 'ListTooLong')
  })
})
