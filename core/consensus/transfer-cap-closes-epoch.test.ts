// The per-member transfer cap closes an epoch early: the leader proposes as soon as a member reaches it, long
// before the time limit, and a payment beyond the cap goes out again in the next epoch.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { useDevnet } from '../../contracts/test/fixture.js'
import { cappedChannel } from '../testing/cluster.js'

describe('transfer cap', () => {
  const devnet = useDevnet()

  it('a member reaching the cap closes the epoch before its time limit; the extra payment lands next epoch', async () => {
    const { f, cluster } = await cappedChannel(devnet(), 3, 4)
    try {
      const p2 = cluster.participants[2]!
      const started = Date.now()
      const sending = Promise.all([1n, 2n, 3n, 4n, 5n].map((amount) => p2.send(0, amount)))
      await cluster.untilCheckpoint(2n, 20_000)
      assert.ok(Date.now() - started < 20_000, 'closed by the cap, not the 60 s limit')
      while (p2.runningEpoch < 3n) await new Promise((r) => setTimeout(r, 20))
      const payments = await sending // the fifth is receipted in epoch 3
      cluster.participants[p2.currentLeader]!.closeEpochNow()
      await cluster.untilCheckpoint(3n, 20_000)
      const cps = await f.channel.checkpoints()
      assert.equal(cps.find((e) => e.epoch === 2n)?.txCount, 4, 'the cap: four transfers for member 2')
      assert.equal(cps.find((e) => e.epoch === 3n)?.txCount, 1, 'the fifth, re-issued')
      assert.deepEqual(payments.map((r) => r.transfer.epoch).sort(), [2n, 2n, 2n, 2n, 3n])
      assert.equal(cps.find((e) => e.epoch === 3n)?.balances[2], parseEther('1') - 15n)
    } finally {
      await cluster.stop()
    }
  })
})
