// The last member left to lead an epoch, muted for junk (found by the soak: its junk writer became the epoch's last
// leader). A view change never gives a member a second round of an epoch, so when every other member has been
// replaced, nobody can replace this one: the members skipped its proposal (a muted member gets no signature work),
// voted to replace it in vain, and the channel stopped for good. A muted leader's proposal is now judged, once a
// round.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { silenceSecondLeader, startCluster, type Cluster } from '../testing/cluster.js'
import { MUTE_AFTER } from './misbehaviour.js'

const JUNK_WRITER = 0 // leads epoch 2's last round: the rotation goes 1, 2, 3, 0

/** Stops `leader`, which leads the running round, and resolves once member `watcher` follows `next`. */
async function replace(cluster: Cluster, leader: number, next: number, watcher: number): Promise<void> {
  await cluster.participants[leader]!.stop()
  const w = cluster.participants[watcher]!
  while (w.currentLeader !== next) await new Promise((r) => setTimeout(r, 20))
}

describe('the last member left to lead an epoch is muted for junk', () => {
  const devnet = useDevnet()

  it('its proposal is still judged: the epoch lands, with the payment it receipted', async () => {
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    // Leaders propose 4 s into their round: each is stopped before it does.
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { epochMs: 4000, leaderTimeoutMs: 1000, chainPollMs: 40 } })
    try {
      await silenceSecondLeader(cluster) // view change from leader 1 to 2
      await cluster.restart(1)
      await replace(cluster, 2, 3, 1)
      await cluster.restart(2)
      await replace(cluster, 3, JUNK_WRITER, 1)
      await cluster.restart(3)
      // Undecodable entries in the junk writer's log: every member mutes it for the rest of epoch 2.
      const junk = Array.from({ length: MUTE_AFTER + 16 }, (_, i) => Buffer.from(`junk ${i}`))
      await cluster.bus.connect(JUNK_WRITER).append(junk)
      const paid = await cluster.participants[1]!.send(2, parseEther('0.1')) // receipted by the junk writer
      await cluster.untilCheckpoint(2n, 30_000)
      const cp = (await f.channel.events()).find((e) => e.type === 'CheckpointSubmitted' && e.epoch === 2n)
      assert.ok(cp?.type === 'CheckpointSubmitted')
      assert.equal(cp.leader, JUNK_WRITER)
      assert.equal(cp.txCount, 1)
      for (const i of [1, 2, 3]) assert.ok((cluster.participants[i]!.misbehaviour.get(JUNK_WRITER) ?? 0) >= MUTE_AFTER, `member ${i} muted the junk writer`)
      while (paid.status !== 'checkpointed') await new Promise((r) => setTimeout(r, 20))
    } finally {
      await cluster.stop()
    }
  })
})
