// A stalled epoch says whom it waits for: with one member gone quiet, every other member's progress shows the
// proposal, the votes seen and the member still awaited.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'

describe('stalled epoch', () => {
  const devnet = useDevnet()

  it('names the member whose vote is awaited', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { epochMs: 60_000, leaderTimeoutMs: 60_000, chainPollMs: 40 } })
    try {
      const [p0, p1, p2] = cluster.participants
      assert.ok(p0 && p1 && p2)
      assert.equal(p0.progress().phase, 'trading')
      p0.closeEpochNow()
      await cluster.untilCheckpoint(1n)
      while (p1.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 20))
      await p0.send(2, 5n)
      await cluster.participants[2]!.stop() // member 2 goes quiet
      p1.closeEpochNow() // member 1 leads epoch 2
      const deadline = Date.now() + 10_000
      while (p0.progress().voted.length < 2 || p1.progress().voted.length < 2) {
        if (Date.now() > deadline) throw new Error(`votes not seen: ${JSON.stringify([p0.progress(), p1.progress()], (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      for (const p of [p0, p1]) {
        const progress = p.progress()
        assert.equal(progress.phase, 'voting')
        assert.equal(progress.epoch, 2n)
        assert.equal(progress.receipts, 1)
        assert.deepEqual(progress.voted, [0, 1])
        assert.deepEqual(progress.awaiting, [2], 'the quiet member is named')
      }
    } finally {
      await cluster.stop()
    }
  })
})
