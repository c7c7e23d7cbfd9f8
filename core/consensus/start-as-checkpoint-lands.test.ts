// A member starting just as a checkpoint lands (found by the 30-minute soak): the checkpoint went on chain between
// its read of the chain's status and its read of the events up to the head, so it was in neither; the member stayed
// in that epoch for good and its payment of that epoch stayed "receipted", never shown final.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { overrideChain, type ChainPort } from './chain-port.js'
import { startCluster } from '../testing/cluster.js'

/** From its second start on, the member's first status read answers as the chain stood before a checkpoint landed. */
function statusBeforeLanding(): (chain: ChainPort) => ChainPort {
  let starts = 0
  return (chain) => {
    let stale = ++starts === 2
    return overrideChain(chain, {
      status: async () => {
        if (!stale) return chain.status()
        stale = false
        const before = await chain.status()
        while ((await chain.status()).checkpointedEpoch === before.checkpointedEpoch) await new Promise((r) => setTimeout(r, 20))
        return before
      },
    })
  }
}

describe('a member starting just as a checkpoint lands', () => {
  const devnet = useDevnet()
  it('follows the chain past it and shows its payment of that epoch checkpointed', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1'), params: { challengeWindow: 2n } })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 1500, leaderTimeoutMs: 1000, chainPollMs: 40 },
      wrapChain: { 2: statusBeforeLanding() },
    })
    try {
      await cluster.untilCheckpoint(1n)
      const p0 = cluster.participants[0]!
      while (p0.runningEpoch < 2n || p0.currentLeader === 2) await new Promise((r) => setTimeout(r, 20))
      const sent = await cluster.participants[2]!.send(0, 4321n)
      assert.equal(sent.status, 'receipted')
      const back = await cluster.restart(2)
      const epoch = sent.transfer.epoch
      await cluster.untilCheckpoint(epoch, 30_000)
      const deadline = Date.now() + 20_000
      const row = () => back.transfers().find((r) => r.transfer.amount === 4321n)
      while (Date.now() < deadline && (back.runningEpoch <= epoch || row()?.status !== 'checkpointed')) await new Promise((r) => setTimeout(r, 50))
      assert.ok(back.runningEpoch > epoch, `the member is still in epoch ${back.runningEpoch}`)
      assert.equal(row()?.status, 'checkpointed')
    } finally {
      await cluster.stop()
    }
  })
})
