// A member that writes junk and led an epoch (found by the soak): a restarted member counted the junk of its whole
// log against the running epoch, muted it, and then skipped its past receipts too, so a payment that member
// receipted and that landed showed "rejected EPOCH_ENDED". Muting now withholds only signature work and writes.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import type { Transport } from './transport.js'
import { startCluster } from '../testing/cluster.js'

const junk = (t: Transport): Transport => ({
  append: (e, r) => t.append(e, r),
  subscribe(h) {
    const timer = setInterval(() => void t.append(Array.from({ length: 5 }, () => randomBytes(40))).catch(() => {}), 500)
    const un = t.subscribe(h)
    return () => {
      clearInterval(timer)
      un()
    }
  },
})

describe('a restarted member and a junk writer that led an epoch', () => {
  const devnet = useDevnet()
  it('shows its payment that member receipted, and which landed, checkpointed', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 1500, leaderTimeoutMs: 3000, chainPollMs: 40 },
      wrapTransport: { 2: junk },
    })
    try {
      const p0 = cluster.participants[0]!
      await new Promise((r) => setTimeout(r, 8000)) // more than 64 junk entries in member 2's log first
      while (p0.currentLeader !== 2 || p0.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 10))
      const epoch = p0.runningEpoch
      const sent = await p0.send(1, 777n)
      assert.equal(sent.receiptLeader, 2)
      await cluster.untilCheckpoint(epoch + 1n, 30_000)
      assert.equal(p0.transfers().find((r) => r.transfer.amount === 777n)?.status, 'checkpointed')
      await new Promise((r) => setTimeout(r, 1000))
      const back = await cluster.restart(0)
      // A restarted node shows the payment open until the counted leader's receipts, read back from its log behind
      // the junk, tell the outcome; then it must be final, never ended unpaid.
      const rows = () => back.transfers().filter((r) => r.transfer.amount === 777n)
      const until = Date.now() + 20_000
      while (Date.now() < until && (rows().length === 0 || rows().some((r) => r.status === 'requested'))) await new Promise((r) => setTimeout(r, 50))
      const row = rows()
      assert.deepEqual(row.map((r) => r.status), ['checkpointed'])
    } finally {
      await cluster.stop()
    }
  })
})
