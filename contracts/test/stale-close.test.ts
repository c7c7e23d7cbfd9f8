// Liveness: when no checkpoint lands for staleAfter seconds any member closes the channel and everyone withdraws its
// last checkpointed balance plus the deposits that checkpoint did not include. No ether stays behind.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { assertRevert, openChannel, plainCheckpoint, useDevnet } from './fixture.js'

const E = (n: string): bigint => parseEther(n)
const STALE = 86_400

describe('stale close', () => {
  const devnet = useDevnet()

  it('after staleAfter every member withdraws its last checkpointed balance plus unincluded deposits', async () => {
    const f = await openChannel(devnet(), { members: 3, outsiders: 2, params: { staleAfter: BigInt(STALE) } })
    const provider = devnet().provider
    const cp1 = plainCheckpoint(1n, [E('10'), E('10'), E('10')], { balances: [E('9'), E('11'), E('10')] })
    await f.as(0).submitCheckpoint(cp1, f.sign(cp1))
    await f.as(1).deposit(E('2'))
    const [newcomer, stranger] = f.outsiders
    assert.ok(newcomer && stranger)
    await f.channel.as(newcomer).join(`0x${'cd'.repeat(32)}`, E('3'))

    const last = await f.channel.lastCheckpointState()
    await assertRevert(f.as(0).close(last), 'NotStale')
    await devnet().increaseTime(STALE)
    await assertRevert(f.channel.as(stranger).close(last), 'NotMember')
    await assertRevert(f.as(0).close({ ...last, balances: [E('10'), E('10'), E('10')] }), 'StateMismatch')
    const closed = await f.as(2).close(last)
    assert.ok(closed.events.some((e) => e.type === 'ChannelClosed' && e.epoch === 1n))

    const expected = [E('9'), E('13'), E('10'), E('3')]
    const accounts = [...f.members.map((m) => m.wallet), newcomer]
    for (const [i, wallet] of accounts.entries()) {
      assert.equal(await f.channel.owed(wallet.address), expected[i], `member ${i} owed`)
      const w = await f.channel.as(wallet).withdraw()
      assert.ok(w.events.some((e) => e.type === 'Withdrawn' && e.amount === expected[i]))
    }
    assert.equal(await provider.getBalance(f.channel.address), 0n, 'nothing stuck')

    await assertRevert(f.as(0).withdraw(), 'NothingOwed')
    await assertRevert(f.as(0).close(last), 'ChannelIsClosed')
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: 1, nextLeader: 2, balances: cp1.balances })
    await assertRevert(f.as(1).submitCheckpoint(cp2, f.sign(cp2)), 'ChannelIsClosed')
    await assertRevert(f.channel.as(stranger).join(`0x${'ef'.repeat(32)}`, E('1')), 'ChannelIsClosed')
  })

  it('an unresolved dispute does not hold the money: the stale close still pays everyone', async () => {
    const f = await openChannel(devnet(), { members: 2, params: { staleAfter: BigInt(STALE), responseWindow: 60n } })
    const provider = devnet().provider
    await f.as(0).challenge(1n, 1, [], f.led(1n, 1))
    assert.equal((await f.channel.status()).disputePhase, 'open')
    await devnet().increaseTime(STALE)
    await f.as(0).close({ balances: [], deposited: [] })
    assert.equal((await f.channel.status()).disputePhase, 'none')
    for (const i of [0, 1]) await f.as(i).withdraw()
    assert.equal(await provider.getBalance(f.channel.address), 0n)
  })
})
