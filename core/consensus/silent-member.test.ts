// One silent member cannot stop a channel: with member 2 gone quiet, the leader's checkpoint goes on chain with the
// votes of the majority and lands after its challenge window; when the silent member's turn to lead comes, a
// majority replaces it; payments keep being checkpointed.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'

const SILENT = 2

describe('silent member', () => {
  const devnet = useDevnet()

  it('checkpoints land with a majority\'s votes after the window, and the silent member\'s turn to lead passes', async () => {
    const f = await openChannel(devnet(), {
      members: 3,
      deposit: parseEther('1'),
      params: { responseWindow: 30n, challengeWindow: 3n },
    })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { epochMs: 1000, leaderTimeoutMs: 1000, chainPollMs: 40 } })
    try {
      await cluster.untilCheckpoint(1n)
      await cluster.participants[SILENT]!.stop()
      const [p0, p1] = cluster.participants as [NonNullable<(typeof cluster.participants)[0]>, NonNullable<(typeof cluster.participants)[1]>]
      while (p0.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 20))
      const a = await p0.send(1, parseEther('0.25'))
      await cluster.untilCheckpoint(3n, 60_000)
      const b = await p1.send(0, parseEther('0.05'))
      await cluster.untilCheckpoint(4n, 60_000)

      const events = await f.channel.events()
      const proposed = events.flatMap((e) => (e.type === 'CheckpointProposed' ? [e] : []))
      assert.ok(proposed.length >= 2, 'checkpoints went on chain with a majority')
      assert.ok(proposed.every((e) => e.unsignedMask === 1n << BigInt(SILENT)), 'only the silent member without a vote')
      const cps = events.flatMap((e) => (e.type === 'CheckpointSubmitted' ? [e] : []))
      assert.ok(cps.some((c) => c.epoch === 3n && c.leader !== SILENT), 'the silent member\'s turn to lead passed to another')
      const last = cps.at(-1)!
      assert.deepEqual(last.balances, [parseEther('0.8'), parseEther('1.2'), parseEther('1')])
      while (a.status !== 'checkpointed' || b.status !== 'checkpointed') await new Promise((r) => setTimeout(r, 20))
    } finally {
      await cluster.stop()
    }
  })
})
