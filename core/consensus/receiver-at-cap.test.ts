// A member paid more often in an epoch than the transfer cap allows stops countersigning at the cap: the rest wait
// for the next epoch, and no member blames it (blamed a few dozen times, it would be muted and its vote unheard).
// The leader being paid counts its own countersigns once, though it takes them before its log brings them back.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { useDevnet } from '../../contracts/test/fixture.js'
import { cappedChannel } from '../testing/cluster.js'

describe('a receiver at the transfer cap', () => {
  const devnet = useDevnet()

  it('countersigns no more than the cap in an epoch; every payment lands in a later one, no member blamed', async () => {
    const { f, cluster } = await cappedChannel(devnet(), 4, 4)
    try {
      const ps = cluster.participants
      const leader = ps[0]!.currentLeader
      const receiver = (leader + 1) % 4 // not leading epoch 2
      const senders = [0, 1, 2, 3].filter((i) => i !== leader && i !== receiver)
      // In one go, each sender pays the leader and the other receiver three times: six requests to each receiver
      // in epoch 2, whose cap is four.
      const sending = Promise.all(senders.flatMap((s) => [leader, receiver].flatMap((to) => [1n, 2n, 3n].map((amount) => ps[s]!.send(to, amount)))))
      const results = await Promise.race([
        sending,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('payments not all receipted within 60 s')), 60_000)),
      ])
      assert.equal(results.length, 12)
      assert.ok(results.every((r) => r.status === 'receipted' || r.status === 'checkpointed'), JSON.stringify(results.map((r) => r.status)))
      const epochs = new Map<bigint, number>()
      for (const r of results) epochs.set(r.transfer.epoch, (epochs.get(r.transfer.epoch) ?? 0) + 1)
      assert.ok(epochs.size >= 2, 'six payments to a member at four an epoch take two epochs')
      // The last of them lands on chain: every checkpoint since epoch 2 counted twelve transfers in all.
      const last = [...epochs.keys()].reduce((a, b) => (a > b ? a : b))
      while (ps.some((p) => p.runningEpoch < last)) await new Promise((r) => setTimeout(r, 20))
      ps[ps[0]!.currentLeader]!.closeEpochNow()
      await cluster.untilCheckpoint(last, 20_000)
      const counted = (await f.channel.checkpoints()).filter((c) => c.epoch >= 2n).reduce((n, c) => n + c.txCount, 0)
      assert.equal(counted, 12)
      for (const [i, p] of ps.entries()) {
        for (const m of [0, 1, 2, 3]) assert.equal(p.misbehaviour.get(m) ?? 0, 0, `member ${i} blamed member ${m}`)
      }
    } finally {
      await cluster.stop()
    }
  })
})
