// An epoch in which nothing happened does not go on chain (each checkpoint costs gas on a public network): the
// leader keeps it open and the members do not vote it out for that; the first payment, deposit or exit makes the
// epoch's checkpoint land as usual. A countersign its author may not give (junk) does not make an epoch busy.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther, randomBytes } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import { encodeEntry, randomTransferId } from '../protocol/index.js'
import type { Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'

describe('idle epochs stay off chain', () => {
  const devnet = useDevnet()

  it('no checkpoint and no view change while nothing happens; a payment, then a deposit, each land in the next checkpoint', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const timing = { epochMs: 500, leaderTimeoutMs: 500, chainPollMs: 40, skipIdleEpochs: true }
    const cluster = await startCluster(f.channel, devnet(), keys, { timing })
    try {
      await cluster.untilCheckpoint(1n) // the deposits: something happened
      const p0 = cluster.participants[0]!
      const viewChanges: unknown[] = []
      for (const p of cluster.participants) p.on('view-change', (v) => viewChanges.push(v))
      await new Promise((r) => setTimeout(r, 8 * (timing.epochMs + timing.leaderTimeoutMs))) // eight idle epochs' time
      assert.equal((await f.channel.status()).checkpointedEpoch, 1n, 'nothing went on chain')
      assert.deepEqual(viewChanges, [], 'nobody voted the idle leader out')

      const paid = await p0.send(2, parseEther('0.1'))
      await cluster.untilCheckpoint(2n, 20_000)
      for (const deadline = Date.now() + 10_000; paid.status !== 'checkpointed' && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20))
      assert.equal(paid.status, 'checkpointed')

      await f.as(1).deposit(parseEther('0.5'))
      await cluster.untilCheckpoint(3n, 20_000)
      const cp3 = (await f.channel.events()).find((e) => e.type === 'CheckpointSubmitted' && e.epoch === 3n)
      assert.ok(cp3?.type === 'CheckpointSubmitted')
      assert.equal(cp3.deposited[1], parseEther('1.5'), 'the deposit alone made the epoch go on chain')
      assert.equal(cp3.txCount, 0)
    } finally {
      await cluster.stop()
    }
  })

  it('entries their author may not write are junk to every member: blamed by all, and the idle leader is not voted out', async () => {
    const f = await openChannel(devnet(), { members: 5, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const timing = { epochMs: 500, leaderTimeoutMs: 500, chainPollMs: 40, skipIdleEpochs: true }
    const cluster = await startCluster(f.channel, devnet(), keys, { timing })
    try {
      await cluster.untilCheckpoint(1n)
      while (cluster.participants.some((p) => p.runningEpoch < 2n)) await new Promise((r) => setTimeout(r, 20))
      const leader = cluster.participants[0]!.currentLeader
      const writer = 4
      assert.notEqual(leader, writer)
      const viewChanges: unknown[] = []
      for (const p of cluster.participants) p.on('view-change', (v) => viewChanges.push(v))
      // Member 4 writes a countersign of its own payment to the leader, as if it were the leader's (the three members
      // not party to it are a majority, enough to vote the leader out if they took it for activity), and a request
      // of a payment by member 0, as if it were member 0's.
      const sig = (): Hex => `0x${Buffer.from(randomBytes(65)).toString('hex')}`
      const transfer = (from: number) => ({ id: randomTransferId(), epoch: 2n, from: f.member(from).address, to: f.member(leader).address, amount: 1n })
      await cluster.bus.connect(writer).append([
        encodeEntry({ type: 'countersign', transfer: transfer(writer), senderSig: sig(), receiverSig: sig() }),
        encodeEntry({ type: 'request', transfer: transfer(0), senderSig: sig() }),
      ])
      await new Promise((r) => setTimeout(r, 6 * (timing.epochMs + timing.leaderTimeoutMs)))
      assert.deepEqual(viewChanges, [], 'nobody voted the idle leader out')
      assert.equal((await f.channel.status()).checkpointedEpoch, 1n, 'nothing went on chain')
      for (const i of [0, 1, 2, 3]) assert.equal(cluster.participants[i]!.misbehaviour.get(writer), 2, `member ${i} blamed both entries`)
    } finally {
      await cluster.stop()
    }
  })
})
