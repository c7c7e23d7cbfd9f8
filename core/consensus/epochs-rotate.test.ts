// Many concurrent transfers across several epochs: every leader takes its turn, every checkpoint lands on chain,
// and the chain's balances equal an independent recount of what the members saw checkpointed.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'
import { TransferRejected } from './participant.js'

describe('epochs rotate', () => {
  const devnet = useDevnet()

  for (const n of [2, 4, 8]) {
  it(`${n} members, concurrent transfers over several epochs, each leader in turn, chain equals recount`, async () => {
    const f = await openChannel(devnet(), { members: n, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    // A generous leader timeout: eight members in one process are slow enough to trigger view changes otherwise.
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { epochMs: 600, leaderTimeoutMs: 5000, chainPollMs: 40 } })
    try {
      await cluster.untilCheckpoint(1n) // credits the deposits
      // Every send must go through: no refusal is swallowed. A payment its epoch closed on is re-issued by the
      // participant itself (it then resolves under its new id, in a later epoch).
      type Sent = Awaited<ReturnType<(typeof cluster.participants)[number]['send']>>
      const records: Sent[] = []
      const refusals: string[] = []
      let sent = 0
      for (let round = 0; round < n; round++) {
        for (let i = 0; i < 60; i++) {
          const from = cluster.participants[i % n]!
          const to = (i * 3 + 1 + round) % n
          if (to === from.index) continue
          sent++
          from.send(to, 1000n + BigInt(i)).then(
            (r) => void records.push(r),
            (e: unknown) => void refusals.push(`${from.index} -> ${to} (${1000 + i} wei): ${e instanceof TransferRejected ? e.code : String(e)}`),
          )
        }
        await new Promise((r) => setTimeout(r, 400))
      }
      // Until every send is receipted and then checkpointed (a receipt that a landed checkpoint did not count goes
      // out again), and every member has led; any refusal fails at once.
      const deadline = Date.now() + 120_000
      for (;;) {
        assert.deepEqual(refusals, [], 'sends refused')
        const open = records.filter((r) => r.status !== 'checkpointed')
        if (records.length === sent && open.length === 0 && (await f.channel.status()).checkpointedEpoch >= BigInt(n + 1)) break
        if (Date.now() > deadline) {
          assert.fail(`of ${sent} sends, ${sent - records.length} not receipted and ${open.length} receipted but not checkpointed ` +
            `(${open.slice(0, 5).map((r) => r.status).join(', ')})`)
        }
        await new Promise((r) => setTimeout(r, 100))
      }

      const events = await f.channel.checkpoints()
      const leaders = events.map((e) => e.leader)
      assert.deepEqual(leaders.slice(0, n), f.members.map((m) => m.index), 'each member led in turn')
      assert.equal(events.reduce((sum, e) => sum + e.txCount, 0), records.length, 'the checkpoints count every send once')
      assert.equal(new Set(records.map((r) => r.transfer.id)).size, records.length)
      const recount = f.members.map(() => parseEther('1'))
      let checkpointed = 0
      for (const p of cluster.participants) {
        for (const r of p.transfers()) {
          if (r.direction !== 'out' || r.status !== 'checkpointed') continue
          checkpointed++
          recount[p.index] = (recount[p.index] ?? 0n) - r.transfer.amount
          const to = f.members.findIndex((m) => m.address === r.transfer.to)
          recount[to] = (recount[to] ?? 0n) + r.transfer.amount
        }
      }
      assert.equal(checkpointed, records.length, 'every send checkpointed, and nothing else')
      assert.deepEqual(events.at(-1)?.balances, recount)
      for (const p of cluster.participants) assert.equal(p.misbehaviour.size, 0, `member ${p.index} saw misbehaviour`)
    } finally {
      await cluster.stop()
    }
  })
  }
})
