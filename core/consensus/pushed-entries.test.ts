// Entries pushed ahead of their logs (DESIGN.md section 3), on a real chain with the in-memory bus, which pushes a
// batch's entries to their recipients before any of its log copies arrive: a push and its log copy have one effect,
// a pushed receipt shows a payment before the countersign it answers is read, junk pushed is dropped and blamed, and
// a member whose pushes are lost is caught up by its log.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther, randomBytes } from 'ethers'
import { openChannel, useDevnet, type ChannelFixture } from '../../contracts/test/fixture.js'
import type { Devnet } from '../chain/index.js'
import type { Hex } from '../protocol/types.js'
import { recount } from '../testing/recount.js'
import { startCluster, type Cluster } from '../testing/cluster.js'
import type { Transport } from './transport.js'

const TIMING = { epochMs: 1500, leaderTimeoutMs: 2000, chainPollMs: 40 }
const LEADER = 1 // leads epoch 2

async function inEpoch2(devnet: Devnet, wrapTransport: Record<number, (t: Transport) => Transport> = {}) {
  const f = await openChannel(devnet, { members: 3, deposit: parseEther('1') })
  const keys = f.members.map((m) => m.wallet.privateKey as Hex)
  const cluster = await startCluster(f.channel, devnet, keys, { timing: TIMING, wrapTransport })
  await cluster.untilCheckpoint(1n)
  while (cluster.participants.some((p) => p.runningEpoch < 2n)) await new Promise((r) => setTimeout(r, 20))
  return { f, cluster }
}

async function checkpointBalances(f: ChannelFixture, cluster: Cluster, epoch: bigint): Promise<bigint[]> {
  await cluster.untilCheckpoint(epoch)
  const cp = (await f.channel.events()).find((e) => e.type === 'CheckpointSubmitted' && e.epoch === epoch)
  assert.ok(cp?.type === 'CheckpointSubmitted')
  return cp.balances
}


describe('pushed entries', () => {
  const devnet = useDevnet()

  it('a push and its log copy have one effect; a pushed receipt shows the payment before its countersign is read', async () => {
    // The payer reads the other members' logs half a second late: only a push can tell it of its receipt sooner.
    const logRead: string[] = []
    const lateLogs = (t: Transport): Transport => ({
      append: (entries, recipients) => t.append(entries, recipients),
      subscribe: (h) =>
        t.subscribe((a, p, e, pushed) => {
          if (a === 0 || pushed) return h(a, p, e, pushed)
          setTimeout(() => {
            logRead.push(`${a}:${p}`)
            h(a, p, e, pushed)
          }, 500)
        }),
    })
    const { f, cluster } = await inEpoch2(devnet(), { 0: lateLogs })
    try {
      const payer = cluster.participants[0]!
      const seen: string[] = []
      payer.on('transfer', (r) => seen.push(`${r.transfer.id}:${r.status}`))
      await new Promise((r) => setTimeout(r, 600)) // entries written before now are read by then
      const readBefore = logRead.length
      const first = await payer.send(2, 1000n)
      assert.equal(logRead.length, readBefore, 'receipted before any log entry written after the request was read')
      const paid = [first, await payer.send(LEADER, 2000n), await cluster.participants[2]!.send(0, 300n)]
      for (const r of paid.slice(0, 2)) {
        assert.equal(seen.filter((s) => s === `${r.transfer.id}:receipted`).length, 1, 'receipted once, not once per copy')
      }
      // The payer was told of its receipt by the push before the receiver's countersign reached it from the log:
      // its payment went from requested straight to receipted, and the late countersign changed nothing.
      assert.ok(!seen.includes(`${paid[0]!.transfer.id}:countersigned`), `events: ${seen.join(', ')}`)
      await new Promise((r) => setTimeout(r, 600))
      assert.equal(payer.transfers().find((t) => t.transfer.id === paid[0]!.transfer.id)?.status, 'receipted')
      assert.deepEqual(await checkpointBalances(f, cluster, 2n), recount(f, paid, parseEther('1')), 'each payment counted once')
    } finally {
      await cluster.stop()
    }
  })

  it('junk pushed to the leader is dropped and blamed; a member whose pushes are lost is caught up by its log', async () => {
    const silentPusher = 2
    // Member 2's transport drops the recipients: its entries travel by the log alone, as when its pushes are lost.
    const noPush = (t: Transport): Transport => ({ append: (entries) => t.append(entries), subscribe: (h) => t.subscribe(h) })
    const { f, cluster } = await inEpoch2(devnet(), { [silentPusher]: noPush })
    try {
      await cluster.bus.connect(0).append([randomBytes(40), randomBytes(300)], [[LEADER], [LEADER]])
      const paid = [await cluster.participants[0]!.send(silentPusher, 700n), await cluster.participants[silentPusher]!.send(LEADER, 50n)]
      assert.deepEqual(paid.map((r) => r.status), ['receipted', 'receipted'])
      assert.ok((cluster.participants[LEADER]!.misbehaviour.get(0) ?? 0) >= 2, 'the junk was counted against its author')
      assert.deepEqual(await checkpointBalances(f, cluster, 2n), recount(f, paid, parseEther('1')))
    } finally {
      await cluster.stop()
    }
  })
})
