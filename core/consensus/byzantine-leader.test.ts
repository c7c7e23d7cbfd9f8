// A Byzantine leader (a test-only flag) that omits a receipted transfer, inflates its own balance or reorders the
// receipts is caught: a member challenges on chain, the contract rules against the leader, the epoch restarts
// under the next member and lands with every transfer counted once. Dispute lists travel one entry a transaction:
// the leader answers once the challenger's list is complete.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { ChannelEvent } from '../chain/index.js'
import type { Hex } from '../protocol/types.js'
import type { Byzantine } from '../testing/byzantine.js'
import { startCluster } from '../testing/cluster.js'

const TIMING = { epochMs: 1500, leaderTimeoutMs: 1500, chainPollMs: 40 }

async function caught(devnet: Parameters<typeof openChannel>[0], byzantine: Byzantine) {
  const f = await openChannel(devnet, { members: 4, deposit: parseEther('1'), params: { responseWindow: 30n } })
  f.channel.listChunk = 1
  const keys = f.members.map((m) => m.wallet.privateKey as Hex)
  const cluster = await startCluster(f.channel, devnet, keys, { timing: TIMING, byzantine: { 1: byzantine } })
  try {
    await cluster.untilCheckpoint(1n)
    const p0 = cluster.participants[0]!
    while (p0.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 20))
    // Epoch 2 is led by the Byzantine member 1. Every member takes part in at least two transfers.
    const pairs: Array<[number, number]> = [[0, 2], [2, 3], [3, 0], [0, 1], [2, 0], [3, 2]]
    const sent = await Promise.all(pairs.map(([from, to], i) => cluster.participants[from]!.send(to, 1000n * BigInt(i + 1))))
    await cluster.untilCheckpoint(2n, 30_000)

    const events = await f.channel.events()
    const only = <T extends ChannelEvent['type']>(t: T) => events.filter((e): e is Extract<ChannelEvent, { type: T }> => e.type === t)
    assert.equal(only('Challenged').length, 1, 'one challenge')
    const opened = only('Challenged')[0]!
    assert.ok(opened.count >= 2 && opened.listed === 1, 'the list opened with its first entry')
    assert.equal(only('ChallengeListed').at(-1)?.listed, opened.count, 'the rest followed')
    assert.equal(only('Responded').length, 1, 'the leader answered the whole list')
    const verdict = only('DisputeResolved')[0]
    assert.ok(verdict, 'the dispute was resolved on chain')
    assert.equal(verdict.leaderRight, false, 'against the Byzantine leader')
    assert.equal(verdict.leader, 1)
    const cp2 = only('CheckpointSubmitted').find((e) => e.epoch === 2n)
    assert.ok(cp2)
    assert.equal(cp2.leader, 2, 'the epoch restarted under the next member')
    assert.equal(cp2.txCount, pairs.length, 'every transfer once')
    const expected = f.members.map(() => parseEther('1'))
    for (const r of sent) {
      expected[f.members.findIndex((m) => m.address === r.transfer.from)]! -= r.transfer.amount
      expected[f.members.findIndex((m) => m.address === r.transfer.to)]! += r.transfer.amount
    }
    assert.deepEqual(cp2.balances, expected)
  } finally {
    await cluster.stop()
  }
}

describe('Byzantine leader', () => {
  const devnet = useDevnet()
  it('omits a receipted transfer: challenged, loses on chain, rolled back', () => caught(devnet(), { omitTransfer: true }))
  it('inflates its own balance: challenged, loses on chain, rolled back', () => caught(devnet(), { inflateOwnBalance: 2000n }))
  it('reorders receipts: challenged, loses on chain, rolled back', () => caught(devnet(), { reorderReceipts: true }))
})
