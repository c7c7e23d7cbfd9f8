// A leader that collects every vote, holds its checkpoint back until the members have moved on to the next leader,
// and lands it after the new leader receipted more payments (the contract never learns of a view change). Final is
// only what the landed checkpoint covers: a payment the new leader receipted is not shown as checkpointed, goes out
// again in the next epoch and is paid once, shown once on both sides (also after a restart) as the same payment.
// The same when the payer was away while the checkpoint landed: restarted, it reads that the checkpoint did not
// count its receipted payment and sends it again (before, it showed it as ended unpaid and let it go).
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Checkpoint, Hex } from '../protocol/types.js'
import { startCluster, type Cluster } from '../testing/cluster.js'
import { overrideChain, type ChainPort, type TxResult } from './chain-port.js'
import type { Participant, TransferRecord } from './participant.js'
import { until } from '../testing/until.js'

const OLD_LEADER = 1 // leads epoch 2
const PAYER = 0
const PAYEE = 2

/** The old leader's checkpoint waits for the test (`release`) instead of going on chain. */
function holdingBack(): { wrap: (chain: ChainPort) => ChainPort; release: () => Promise<TxResult> } {
  let release: (() => Promise<TxResult>) | undefined
  const wrap = (chain: ChainPort): ChainPort =>
    overrideChain(chain, {
      submitCheckpoint: (cp: Checkpoint, sigs: readonly Hex[]) =>
        new Promise<TxResult>((resolve, reject) => {
          release = () => chain.submitCheckpoint(cp, sigs).then((r) => (resolve(r), r), (e: unknown) => (reject(e), Promise.reject(e)))
        }),
    })
  return {
    wrap,
    release: () => {
      assert.ok(release, 'the old leader holds a checkpoint with every vote')
      return release()
    },
  }
}

const untilEpoch = async (epoch: bigint, ...ps: Participant[]): Promise<void> => {
  while (ps.some((p) => p.runningEpoch < epoch)) await new Promise((r) => setTimeout(r, 20))
}
/** Each record as its first id, status and epoch, comparable with deepEqual. */
const shown = (p: Participant): string[] => p.transfers().map((t) => `${t.firstId ?? t.transfer.id} ${t.status} ${t.transfer.epoch}`)

describe('leader lands a held-back checkpoint', () => {
  const devnet = useDevnet()

  /**
   * Epoch 2: the old leader receipts `a` and holds back its checkpoint; a view change moves the lead to the payee,
   * which receipts `b`. Then `landing` runs (it releases the checkpoint).
   */
  async function heldBack(landing: (c: { release: () => Promise<TxResult>; cluster: Cluster }) => Promise<void>) {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const held = holdingBack()
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 1500, leaderTimeoutMs: 1000, chainPollMs: 40 },
      wrapChain: { [OLD_LEADER]: held.wrap },
    })
    let a: TransferRecord, b: TransferRecord
    try {
      await cluster.untilCheckpoint(1n)
      const payer = cluster.participants[PAYER]!
      const payee = cluster.participants[PAYEE]!
      await untilEpoch(2n, payer, payee)
      assert.equal(payer.currentLeader, OLD_LEADER)
      a = await payer.send(PAYEE, parseEther('0.1')) // receipted by the old leader
      const [change] = (await once(payer, 'view-change')) as [{ from: number; to: number }]
      assert.deepEqual([change.from, change.to], [OLD_LEADER, PAYEE])
      b = await payer.send(PAYEE, parseEther('0.2')) // receipted by the new leader
      await landing({ release: held.release, cluster })
    } catch (err) {
      await cluster.stop()
      throw err
    }
    const bId = b.transfer.id
    const epoch3 = async () => {
      await cluster.untilCheckpoint(3n, 30_000)
      const cp3 = (await f.channel.events()).find((e) => e.type === 'CheckpointSubmitted' && e.epoch === 3n)
      assert.ok(cp3?.type === 'CheckpointSubmitted')
      return cp3
    }
    return { cluster, a, b, bId, epoch3 }
  }

  it('after a view change: only what it covers is final; the new leader\'s receipt goes out again and is paid once', async () => {
    let landed: TxResult | undefined
    const { cluster, a, b, bId, epoch3 } = await heldBack(async ({ release }) => void (landed = await release()))
    try {
      const [payer, payee] = [cluster.participants[PAYER]!, cluster.participants[PAYEE]!]
      assert.ok(landed?.events.some((e) => e.type === 'CheckpointSubmitted' && e.epoch === 2n && e.leader === OLD_LEADER && e.txCount === 1))
      await untilEpoch(3n, payer, payee)
      const inEpoch2 = (p: Participant) => p.transfers().filter((t) => t.transfer.epoch === 2n && t.status === 'checkpointed')
      assert.deepEqual(inEpoch2(payer).map((t) => t.transfer.id), [a.transfer.id], 'the payer sees only the covered payment final')
      assert.deepEqual(inEpoch2(payee).map((t) => t.transfer.id), [a.transfer.id], 'so does the payee')

      const cp3 = await epoch3()
      assert.deepEqual(cp3.balances, [parseEther('0.7'), parseEther('1'), parseEther('1.3')], 'each payment debited once')
      await until(() => b.status === 'checkpointed', 'the payer sees b checkpointed', 30_000)
      assert.equal(b.transfer.epoch, 3n, 'the uncovered payment went out again in epoch 3')
      // One record per payment on each side: the re-issue is the same payment, linked to its first id.
      const expected = [`${a.transfer.id} checkpointed 2`, `${bId} checkpointed 3`]
      assert.deepEqual(shown(payer), expected)
      await until(() => payee.transfers().find((t) => t.firstId === bId)?.status === 'checkpointed', 'the payee sees b checkpointed', 30_000)
      assert.deepEqual(shown(payee), expected)
      // A restarted payer rebuilds the same history from the logs.
      const restarted = await cluster.restart(PAYER)
      await until(() => JSON.stringify(shown(restarted)) === JSON.stringify(expected), 'the restarted payer shows the same', 10_000).catch(() => {})
      assert.deepEqual(shown(restarted), expected)
    } finally {
      await cluster.stop()
    }
  })

  it('with the payer away while it lands: restarted, the payer sends the uncounted payment again, paid once', async () => {
    const { cluster, a, bId, epoch3 } = await heldBack(async ({ release, cluster }) => {
      // The payer stops with b receipted (by a leader whose round will not count) and is back once epoch 3 runs.
      await cluster.restart(PAYER, async () => {
        await release()
        await untilEpoch(3n, cluster.participants[PAYEE]!, cluster.participants[OLD_LEADER]!)
      })
    })
    try {
      const [payer, payee] = [cluster.participants[PAYER]!, cluster.participants[PAYEE]!]
      const cp3 = await epoch3()
      assert.deepEqual(cp3.balances, [parseEther('0.7'), parseEther('1'), parseEther('1.3')], 'b was paid in epoch 3, once')
      const expected = [`${a.transfer.id} checkpointed 2`, `${bId} checkpointed 3`]
      await until(() => JSON.stringify(shown(payer)) === JSON.stringify(expected), 'the payer shows b paid in epoch 3', 30_000).catch(() => {})
      assert.deepEqual(shown(payer), expected)
      await until(() => JSON.stringify(shown(payee)) === JSON.stringify(expected), 'the payee shows b paid once', 30_000).catch(() => {})
      assert.deepEqual(shown(payee), expected)
    } finally {
      await cluster.stop()
    }
  })
})
