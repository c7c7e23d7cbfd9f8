// A member challenges a proposal falsely and then never resolves its dispute (it left, or it stalls on purpose).
// The dispute must not wait for it: once the leader has answered, the other members resolve it after a grace
// period, the leader's checkpoint lands without the challenger's vote, and the channel goes on.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'
import { overrideChain, type ChainPort } from './chain-port.js'

const CHALLENGER = 2

describe('challenger leaves its dispute', () => {
  const devnet = useDevnet()

  it('the other members resolve it; the leader\'s checkpoint lands and the next epoch follows', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    // The challenger's node never calls resolve.
    const neverResolves = (chain: ChainPort): ChainPort =>
      overrideChain(chain, { resolve: () => Promise.reject(new Error('the challenger is gone')) })
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 1000, leaderTimeoutMs: 1000, chainPollMs: 40 },
      byzantine: { [CHALLENGER]: { falseChallenge: true } },
      wrapChain: { [CHALLENGER]: neverResolves },
    })
    try {
      await cluster.untilCheckpoint(1n)
      await cluster.untilCheckpoint(3n, 40_000)
      const events = await f.channel.events()
      const verdict = events.find((e) => e.type === 'DisputeResolved' && e.epoch === 2n)
      assert.ok(verdict?.type === 'DisputeResolved', 'the dispute of epoch 2 was resolved')
      assert.equal(verdict.challenger, CHALLENGER)
      assert.equal(verdict.leaderRight, true)
      const tx = await devnet().provider.getTransaction(verdict.transactionHash)
      assert.notEqual(tx?.from, f.member(CHALLENGER).address, 'resolved by another member')
      const cp2 = events.find((e) => e.type === 'CheckpointSubmitted' && e.epoch === 2n)
      assert.ok(cp2?.type === 'CheckpointSubmitted' && cp2.leader === 1, 'the leader\'s checkpoint landed')
    } finally {
      await cluster.stop()
    }
  })
})
