// Checkpoints on a real chain: what lands, what each refusal looks like, joins, deposits and exits between epochs.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { ChannelDigests, signDigest, type Hex } from '../../core/protocol/index.js'
import { assertRevert, highS, openChannel, plainCheckpoint, txSummary, useDevnet } from './fixture.js'

const E = (n: string): bigint => parseEther(n)

describe('checkpoint', () => {
  const devnet = useDevnet()

  it('signed by every member, lands, hands the lead to nextLeader and reports the balances', async () => {
    const f = await openChannel(devnet(), { members: 3 })
    const cp1 = plainCheckpoint(1n, [E('10'), E('10'), E('10')])
    const r1 = await f.as(0).submitCheckpoint(cp1, f.sign(cp1))
    const ev = r1.events.find((e) => e.type === 'CheckpointSubmitted')
    assert.ok(ev && ev.type === 'CheckpointSubmitted')
    assert.deepEqual(ev.balances, cp1.balances)
    assert.equal(ev.epoch, 1n)
    let status = await f.channel.status()
    assert.equal(status.checkpointedEpoch, 1n)
    assert.equal(status.leader, 1)
    assert.equal(status.included, 3)

    // Epoch 2 under member 1: two transfers move money; the checkpoint carries their root.
    const txs = [
      f.receipted({ epoch: 2n, from: 0, to: 1, amount: E('3'), leader: 1, seq: 0 }),
      f.receipted({ epoch: 2n, from: 1, to: 2, amount: E('1'), leader: 1, seq: 1 }),
    ]
    const cp2 = plainCheckpoint(2n, cp1.deposited, {
      leader: 1,
      nextLeader: 2,
      balances: [E('7'), E('12'), E('11')],
      ...txSummary(txs),
    })
    await f.as(1).submitCheckpoint(cp2, f.sign(cp2))
    status = await f.channel.status()
    assert.equal(status.checkpointedEpoch, 2n)
    assert.equal(status.leader, 2)
    assert.deepEqual(await f.channel.lastCheckpointState(), { balances: cp2.balances, deposited: cp2.deposited })
  })

  it('refuses a wrong or replayed epoch', async () => {
    const f = await openChannel(devnet(), { members: 2 })
    const cp2 = plainCheckpoint(2n, [E('10'), E('10')])
    await assertRevert(f.as(0).submitCheckpoint(cp2, f.sign(cp2)), 'WrongEpoch')
    const cp1 = plainCheckpoint(1n, [E('10'), E('10')])
    await f.as(0).submitCheckpoint(cp1, f.sign(cp1))
    await assertRevert(f.as(0).submitCheckpoint(cp1, f.sign(cp1)), 'WrongEpoch')
  })

  it('refuses a missing, duplicated, foreign, malleable or malformed signature', async () => {
    const f = await openChannel(devnet(), { members: 3 })
    const cp = plainCheckpoint(1n, [E('10'), E('10'), E('10')])
    const good = f.sign(cp)
    const digest = f.digests.checkpoint(cp)
    const outsider = f.outsiders[0]
    assert.ok(outsider)
    const cases: Array<[string, Hex[]]> = [
      ['missing', [good[0]!, good[1]!, '0x']],
      ['duplicated', [good[0]!, good[1]!, good[1]!]],
      ['foreign', [good[0]!, good[1]!, signDigest(outsider.signingKey, digest)]],
      ['high-s', [good[0]!, good[1]!, highS(good[2]!)]],
      ['malformed', [good[0]!, good[1]!, good[2]!.slice(0, -2) as Hex]],
    ]
    for (const [, sigs] of cases) await assertRevert(f.as(0).submitCheckpoint(cp, sigs), 'BadSignature')
    await assertRevert(f.as(0).submitCheckpoint(cp, good.slice(0, 2)), 'LengthMismatch')
    await f.as(0).submitCheckpoint(cp, good)
  })

  it('refuses balances that do not add up to the included deposits, even when everyone signed', async () => {
    const f = await openChannel(devnet(), { members: 3 })
    const inflated = plainCheckpoint(1n, [E('10'), E('10'), E('10')], { balances: [E('11'), E('10'), E('10')] })
    await assertRevert(f.as(0).submitCheckpoint(inflated, f.sign(inflated)), 'BalancesNotConserved')
    const overDeposit = plainCheckpoint(1n, [E('11'), E('10'), E('10')])
    await assertRevert(f.as(0).submitCheckpoint(overDeposit, f.sign(overDeposit)), 'DepositExceeded')
  })

  it('refuses a checkpoint signed for another channel or another chain', async () => {
    const f = await openChannel(devnet(), { members: 2 })
    const other = await openChannel(devnet(), { members: 2 })
    const cp = plainCheckpoint(1n, [E('10'), E('10')])
    await assertRevert(f.as(0).submitCheckpoint(cp, other.sign(cp)), 'BadSignature')
    const otherChain = new ChannelDigests({ chainId: 1n, verifyingContract: f.channel.address })
    const sigs = f.members.map((m) => signDigest(m.key, otherChain.checkpoint(cp)))
    await assertRevert(f.as(0).submitCheckpoint(cp, sigs), 'BadSignature')
    await f.as(0).submitCheckpoint(cp, f.sign(cp))
  })

  it('includes joins and deposits made while epochs run, and only once they are held', async () => {
    const f = await openChannel(devnet(), { members: 3 })
    const cp1 = await f.checkpointDeposits()

    // During epoch 2 a fourth account joins and member 0 tops up.
    const newcomer = f.outsiders[0]
    assert.ok(newcomer)
    const joined = await f.channel.as(newcomer).join(`0x${'ab'.repeat(32)}`, E('5'))
    assert.deepEqual(
      joined.events.map((e) => e.type === 'Joined' && [e.index, e.account, e.amount]),
      [[3, newcomer.address, E('5')]],
    )
    await f.as(0).deposit(E('2'))
    assert.equal((await f.channel.member(0)).deposit, E('12'))

    // Epoch 2 may leave both out; dropping an included member is refused.
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: 1, nextLeader: 2 })
    const shrunk = plainCheckpoint(2n, [E('10'), E('10')], { leader: 1, nextLeader: 0 })
    await assertRevert(f.as(1).submitCheckpoint(shrunk, f.sign(shrunk, [0, 1])), 'WrongMemberCount')
    await f.as(1).submitCheckpoint(cp2, f.sign(cp2))

    // Epoch 3 includes them; the newcomer must sign too.
    f.members.push({ index: 3, wallet: newcomer, key: newcomer.signingKey, address: newcomer.address, peerKey: '0x' })
    const cp3 = plainCheckpoint(3n, [E('12'), E('10'), E('10'), E('5')], { leader: 2, nextLeader: 3 })
    await assertRevert(f.as(2).submitCheckpoint(cp3, f.sign(cp3, [0, 1, 2])), 'BadSignature')
    const greedy = plainCheckpoint(3n, [E('13'), E('10'), E('10'), E('5')], { leader: 2, nextLeader: 3 })
    await assertRevert(f.as(2).submitCheckpoint(greedy, f.sign(greedy)), 'DepositExceeded')
    await f.as(2).submitCheckpoint(cp3, f.sign(cp3))
    const status = await f.channel.status()
    assert.equal(status.included, 4)
    assert.equal(status.leader, 3)
  })

  it('pays exiting members their balance plus unincluded deposits in the checkpoint call', async () => {
    const f = await openChannel(devnet(), { members: 3 })
    const provider = devnet().provider
    const cp1 = await f.checkpointDeposits()
    await f.as(2).deposit(E('1')) // not included by the exit checkpoint: paid back as is

    const leaver = f.member(2).address
    const before = await provider.getBalance(leaver)
    const cp2 = plainCheckpoint(2n, cp1.deposited, {
      leader: 1,
      nextLeader: 0,
      balances: [E('11'), E('10'), E('9')],
      exitMask: 1n << 2n,
    })
    const badNext = { ...cp2, nextLeader: 2 }
    await assertRevert(f.as(1).submitCheckpoint(badNext, f.sign(badNext)), 'InvalidNextLeader')
    const r = await f.as(1).submitCheckpoint(cp2, f.sign(cp2))
    assert.equal(await provider.getBalance(leaver), before + E('10'), 'balance 9 + unincluded deposit 1')
    assert.ok(r.events.some((e) => e.type === 'Exited' && e.index === 2 && e.amount === E('10')))
    assert.equal((await f.channel.member(2)).exited, true)
    assert.equal(await provider.getBalance(f.channel.address), E('21'))

    // The exited member no longer signs, deposits or challenges; its slot stays at zero.
    await assertRevert(f.as(2).deposit(E('1')), 'MemberExited')
    const cp3 = plainCheckpoint(3n, cp1.deposited, { leader: 0, nextLeader: 1, balances: [E('11'), E('10'), 0n] })
    await f.as(0).submitCheckpoint(cp3, f.sign(cp3, [0, 1]))
    const cp4bad = plainCheckpoint(4n, cp1.deposited, { leader: 1, nextLeader: 0, balances: [E('10'), E('10'), E('1')] })
    await assertRevert(f.as(1).submitCheckpoint(cp4bad, f.sign(cp4bad, [0, 1])), 'ExitedMemberChanged')
  })
})
