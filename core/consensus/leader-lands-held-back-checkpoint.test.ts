// A leader that collects every vote, holds its checkpoint back until the members have moved on to the next leader,
// and lands it after the new leader receipted more payments (the contract never learns of a view change). Final is
// only what the landed checkpoint covers: a payment the new leader receipted is not shown as checkpointed, goes out
// again in the next epoch and is paid once, shown once on both sides (also after a restart) as the same payment.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Checkpoint, Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'
import type { ChainPort, TxResult } from './chain-port.js'

const OLD_LEADER = 1 // leads epoch 2
const PAYER = 0
const PAYEE = 2

describe('leader lands a held-back checkpoint', () => {
  const devnet = useDevnet()

  it('after a view change: only what it covers is final; the new leader\'s receipt goes out again and is paid once', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    let release: (() => Promise<TxResult>) | undefined
    // The old leader's checkpoint waits for the test instead of going on chain.
    const holding = (chain: ChainPort): ChainPort =>
      new Proxy(chain, {
        get(target, prop) {
          if (prop === 'submitCheckpoint') {
            return (cp: Checkpoint, sigs: readonly Hex[]) =>
              new Promise<TxResult>((resolve, reject) => {
                release = () => target.submitCheckpoint(cp, sigs).then((r) => (resolve(r), r), (e: unknown) => (reject(e), Promise.reject(e)))
              })
          }
          const v = Reflect.get(target, prop) as unknown
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        },
      })
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 1500, leaderTimeoutMs: 1000, chainPollMs: 40 },
      wrapChain: { [OLD_LEADER]: holding },
    })
    try {
      await cluster.untilCheckpoint(1n)
      const payer = cluster.participants[PAYER]!
      const payee = cluster.participants[PAYEE]!
      while (payer.runningEpoch < 2n || payee.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 20))
      assert.equal(payer.currentLeader, OLD_LEADER)

      const a = await payer.send(PAYEE, parseEther('0.1')) // receipted by the old leader
      const [change] = (await once(payer, 'view-change')) as [{ from: number; to: number }]
      assert.deepEqual([change.from, change.to], [OLD_LEADER, PAYEE])
      assert.ok(release, 'the old leader holds a checkpoint with every vote')
      const b = await payer.send(PAYEE, parseEther('0.2')) // receipted by the new leader
      const bId = b.transfer.id
      const landed = await release()
      assert.ok(landed.events.some((e) => e.type === 'CheckpointSubmitted' && e.epoch === 2n && e.leader === OLD_LEADER && e.txCount === 1))

      while (payer.runningEpoch < 3n || payee.runningEpoch < 3n) await new Promise((r) => setTimeout(r, 20))
      const inEpoch2 = (p: typeof payer) => p.transfers().filter((t) => t.transfer.epoch === 2n && t.status === 'checkpointed')
      assert.deepEqual(inEpoch2(payer).map((t) => t.transfer.id), [a.transfer.id], 'the payer sees only the covered payment final')
      assert.deepEqual(inEpoch2(payee).map((t) => t.transfer.id), [a.transfer.id], 'so does the payee')

      await cluster.untilCheckpoint(3n, 30_000)
      const cp3 = (await f.channel.events()).find((e) => e.type === 'CheckpointSubmitted' && e.epoch === 3n)
      assert.ok(cp3?.type === 'CheckpointSubmitted')
      assert.deepEqual(cp3.balances, [parseEther('0.7'), parseEther('1'), parseEther('1.3')], 'each payment debited once')
      while (b.status !== 'checkpointed') await new Promise((r) => setTimeout(r, 20))
      assert.equal(b.transfer.epoch, 3n, 'the uncovered payment went out again in epoch 3')
      // One record per payment on each side: the re-issue is the same payment, linked to its first id.
      const shown = (p: typeof payer) => p.transfers().map((t) => [t.firstId ?? t.transfer.id, t.status, t.transfer.epoch])
      const expected = [[a.transfer.id, 'checkpointed', 2n], [bId, 'checkpointed', 3n]]
      assert.deepEqual(shown(payer), expected)
      while (payee.transfers().find((t) => t.firstId === bId)?.status !== 'checkpointed') await new Promise((r) => setTimeout(r, 20))
      assert.deepEqual(shown(payee), expected)
      // A restarted payer rebuilds the same history from the logs.
      const restarted = await cluster.restart(PAYER)
      const same = (): boolean => JSON.stringify(shown(restarted), (_, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)) ===
        JSON.stringify(expected, (_, v: unknown) => (typeof v === 'bigint' ? `${v}` : v))
      for (const deadline = Date.now() + 10_000; !same() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20))
      assert.deepEqual(shown(restarted), expected)
    } finally {
      await cluster.stop()
    }
  })
})
