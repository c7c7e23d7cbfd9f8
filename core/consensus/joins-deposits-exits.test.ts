// Money moving in and out while epochs run: a deposit and a join made on chain during an epoch are included by the
// next checkpoint (and spendable after it); a member's exit request is carried in the exit set and the contract
// pays it in the checkpoint call; the channel carries on without it.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { Wallet, parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'

const TIMING = { epochMs: 1200, leaderTimeoutMs: 3000, chainPollMs: 40 }

describe('joins, deposits and exits', () => {
  const devnet = useDevnet()

  it('a deposit and a join during an epoch count from the next checkpoint; an exit is paid and the rest go on', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1'), outsiders: 1 })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: TIMING })
    try {
      await cluster.untilCheckpoint(1n)
      const [p0, p1, p2] = cluster.participants
      assert.ok(p0 && p1 && p2)
      while (p0.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 20))

      // Epoch 2: member 0 tops up and a newcomer joins, on chain.
      await f.as(0).deposit(parseEther('0.5'))
      const newcomer = f.outsiders[0] as Wallet
      await f.channel.as(newcomer).join(`0x${'42'.repeat(32)}`, parseEther('2'))
      const p3 = await cluster.add(newcomer.privateKey as Hex)
      const paid = await p1.send(0, parseEther('0.25'))

      const cp2 = await checkpoint(2n)
      assert.deepEqual(cp2.deposited, [parseEther('1.5'), parseEther('1'), parseEther('1'), parseEther('2')])
      assert.deepEqual(cp2.balances, [parseEther('1.75'), parseEther('0.75'), parseEther('1'), parseEther('2')])
      assert.equal(paid.transfer.epoch, 2n)

      // Epoch 3: the newcomer pays, member 2 asks to leave.
      while (p3.runningEpoch < 3n) await new Promise((r) => setTimeout(r, 20))
      await p3.send(2, parseEther('0.5'))
      const before = await devnet().provider.getBalance(f.member(2).address)
      const exited = once(p2, 'exited')
      p2.requestExit()
      const cp3 = await checkpoint(3n)
      assert.equal(cp3.exitMask, 1n << 2n)
      await exited
      const payout = (await f.channel.events()).find((e) => e.type === 'Exited')
      assert.ok(payout && payout.type === 'Exited' && payout.index === 2)
      assert.equal(payout.amount, parseEther('1.5'), 'paid its balance')
      // Member 2 led epoch 3 and paid the gas of its own exit checkpoint: the rest of its balance arrived.
      const gained = (await devnet().provider.getBalance(f.member(2).address)) - before
      assert.ok(gained > parseEther('1.49') && gained <= parseEther('1.5'))
      assert.equal((await f.channel.member(2)).exited, true)

      // Epoch 4 goes on without member 2: nobody waits for its vote, nobody hands it the lead.
      await p0.send(1, 1n)
      const cp4 = await checkpoint(4n)
      assert.equal(cp4.balances[2], 0n)
      assert.notEqual(cp4.nextLeader, 2)
    } finally {
      await cluster.stop()
    }

    async function checkpoint(epoch: bigint) {
      await cluster.untilCheckpoint(epoch, 20_000)
      const cp = (await f.channel.events()).find((e) => e.type === 'CheckpointSubmitted' && e.epoch === epoch)
      assert.ok(cp && cp.type === 'CheckpointSubmitted')
      return cp
    }
  })
})
