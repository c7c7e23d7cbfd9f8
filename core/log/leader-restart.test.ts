// A leader restarted mid-epoch over real Hypercores on disk: it rebuilds its epoch from its own log and writes
// nothing a second time. Two ways it once did: its own log is replayed block by block, so a receipt could be made
// again before the block already holding it was read back; and the payer's requests, read again after the
// restart, looked like duplicates and were answered with rejections.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Corestore from 'corestore'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import { Participant } from '../consensus/participant.js'
import type { Hex } from '../protocol/types.js'
import { createPeerKey } from './peer-key.js'
import { TradeLogs } from './trade-logs.js'

const TIMING = { epochMs: 600_000, leaderTimeoutMs: 600_000, chainPollMs: 40 }

const until = async (what: () => boolean, why: string, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${why}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('a leader restarted mid-epoch', () => {
  const devnet = useDevnet({ accounts: 4 })
  const dirs = [mkdtempSync(join(tmpdir(), 'leader-restart-')), mkdtempSync(join(tmpdir(), 'leader-restart-'))]
  const keys = [createPeerKey(), createPeerKey()]
  const running: Array<{ participant: Participant; logs: TradeLogs }> = []

  after(async () => {
    for (const r of running) await Promise.all([r.participant.stop(), r.logs.close()]).catch(() => {})
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('rebuilds its epoch from its own log and writes nothing twice', async () => {
    const f = await openChannel(devnet(), { members: 2, deposit: parseEther('1') })
    const logs: TradeLogs[] = []
    const start = async (i: number): Promise<{ participant: Participant; logs: TradeLogs }> => {
      const l = new TradeLogs(dirs[i]!, keys[i]!, i)
      await l.open()
      await l.follow(1 - i, keys[1 - i]!.publicKey)
      logs[i] = l
      const other = logs[1 - i]
      if (other) {
        // The two stores replicate over a plain stream pair: the swarm is not what this test is about.
        const a = l.store.replicate(true)
        const b = other.store.replicate(false)
        a.pipe(b).pipe(a)
        a.on('error', () => {})
        b.on('error', () => {})
      }
      const participant = new Participant({
        index: i,
        privateKey: f.member(i).wallet.privateKey as Hex,
        chain: f.as(i),
        transport: l,
        timing: TIMING,
      })
      await participant.start()
      const r = { participant, logs: l }
      running.push(r)
      return r
    }
    const [p0, p1] = [await start(0), await start(1)]
    p0.participant.closeEpochNow() // epoch 1 credits the deposits
    await until(() => p0.participant.runningEpoch === 2n && p1.participant.runningEpoch === 2n, 'epoch 2')
    const leader = p0.participant.currentLeader
    const payer = [p0, p1][1 - leader]!.participant
    for (let i = 0; i < 5; i++) await payer.send(leader, 1000n) // the leader is paid: it countersigns and receipts
    const before = [p0, p1][leader]!
    await until(() => before.participant.progress().receipts === 5, 'five receipts')
    await before.participant.stop()
    await before.logs.close()
    const length = await ownLogLength(dirs[leader]!, leader)

    const restarted = await start(leader)
    await until(() => restarted.participant.transfers().filter((t) => t.status === 'receipted').length === 5, 'replayed')
    await new Promise((r) => setTimeout(r, 500)) // what a replay might wrongly write would be flushed by now
    assert.equal(restarted.participant.progress().receipts, 5)
    assert.equal(restarted.participant.balanceOf(leader), parseEther('1') + 5000n)
    await restarted.participant.stop()
    await restarted.logs.close()
    assert.equal(await ownLogLength(dirs[leader]!, leader), length, 'the restarted leader wrote nothing again')
  })

  async function ownLogLength(dir: string, index: number): Promise<number> {
    const store = new Corestore(dir)
    const core = store.get({ keyPair: keys[index]! })
    await core.ready()
    const length = core.length
    await store.close()
    return length
  }
})
