// A leader and an accomplice (a majority of three) put a checkpoint on chain that moves money from a member who is
// away. The member's app comes back within the challenge window, checks the checkpoint it did not sign, challenges
// it and wins: the checkpoint is void, the leader banned, and the epoch lands without the theft.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { honestConduct, type Conduct } from './conduct.js'
import { startCluster } from '../testing/cluster.js'

const ABSENT = 0
const LEADER = 1 // leads epoch 2
const ACCOMPLICE = 2

describe('majority steals from an absent member', () => {
  const devnet = useDevnet()

  it('the member comes back within the window, challenges the checkpoint it did not sign, and wins', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1'), params: { responseWindow: 30n, challengeWindow: 20n } })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const votesForAnything: Conduct = { ...honestConduct, judge: (_, evidence) => ({ verdict: { action: 'vote' }, evidence }) }
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 1000, leaderTimeoutMs: 1000, chainPollMs: 40 },
      byzantine: { [LEADER]: { inflateOwnBalance: parseEther('0.5') } },
      conduct: { [ACCOMPLICE]: votesForAnything },
    })
    try {
      await cluster.untilCheckpoint(1n)
      await cluster.participants[ABSENT]!.stop()
      const proposedOnChain = async () => (await f.channel.events()).find((e) => e.type === 'CheckpointProposed')
      for (const deadline = Date.now() + 20_000; !(await proposedOnChain()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100))
      const proposed = await proposedOnChain()
      assert.ok(proposed?.type === 'CheckpointProposed', 'the majority put its checkpoint on chain')
      assert.equal(proposed.checkpoint.balances[ABSENT], parseEther('0.5'), 'taking half the absent member\'s money')

      await cluster.restart(ABSENT) // back within the window
      await cluster.untilCheckpoint(2n, 60_000)
      const events = await f.channel.events()
      const verdict = events.find((e) => e.type === 'DisputeResolved' && e.epoch === 2n)
      assert.ok(verdict?.type === 'DisputeResolved')
      assert.equal(verdict.challenger, ABSENT)
      assert.equal(verdict.leaderRight, false, 'the member who came back won')
      const cp2 = events.find((e) => e.type === 'CheckpointSubmitted' && e.epoch === 2n)
      assert.ok(cp2?.type === 'CheckpointSubmitted')
      assert.notEqual(cp2.leader, LEADER)
      assert.equal(cp2.balances[ABSENT], parseEther('1'), 'nothing taken')
    } finally {
      await cluster.stop()
    }
  })
})
