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
import { decodeEntry, type Entry } from '../protocol/entries.js'
import type { Hex } from '../protocol/types.js'
import { decodeBlock } from './blocks.js'
import { createPeerKey } from './peer-key.js'
import { TradeLogs } from './trade-logs.js'
import { until } from '../testing/until.js'

const TIMING = { epochMs: 600_000, leaderTimeoutMs: 600_000, chainPollMs: 40 }


describe('a leader restarted mid-epoch', () => {
  const devnet = useDevnet({ accounts: 4 })
  const dirs = [mkdtempSync(join(tmpdir(), 'leader-restart-')), mkdtempSync(join(tmpdir(), 'leader-restart-'))]
  const keys = [createPeerKey(), createPeerKey()]
  const running: Array<{ participant: Participant; logs: TradeLogs }> = []

  after(async () => {
    for (const r of running) await Promise.all([r.participant.stop(), r.logs.close()]).catch(() => {})
    for (const d of dirs) for (const p of [d, `${d}.journal`]) rmSync(p, { recursive: true, force: true }) // TradeLogs journals beside its store
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
    const written = await ownLogEntries(dirs[leader]!, leader)

    const restarted = await start(leader)
    await until(() => restarted.participant.transfers().filter((t) => t.status === 'receipted').length === 5, 'replayed')
    assert.equal(restarted.participant.progress().receipts, 5)
    assert.equal(restarted.participant.balanceOf(leader), parseEther('1') + 5000n)
    // Proof that the restarted leader has read everything it read before, rather than a wait: a sixth payment,
    // receipted by it and seen receipted by the payer. Its request comes after the five in the payer's log, and the
    // leader's answers go into its log in order, so whatever the replay made it write (a second receipt, a refusal
    // of a request it had answered) is in its log ahead of the sixth receipt.
    const sixth = await payer.send(leader, 1000n)
    assert.equal(sixth.status, 'receipted')
    assert.equal(restarted.participant.progress().receipts, 6)
    assert.equal(restarted.participant.balanceOf(leader), parseEther('1') + 6000n)
    await restarted.participant.stop()
    await restarted.logs.close()
    const logged = await ownLogEntries(dirs[leader]!, leader)
    assert.deepEqual(logged.slice(0, written.length), written, 'the log before the restart is unchanged')
    assert.deepEqual(
      logged.slice(written.length).map(entryName),
      [`countersign:${sixth.transfer.id}`, `receipt:${sixth.transfer.id}:5`],
      'the restarted leader wrote nothing again: only its answers to the sixth payment',
    )
    const described = logged.map(entryName)
    assert.equal(new Set(described).size, described.length, 'no entry twice')
    assert.ok(!described.some((d) => d.startsWith('reject:')), 'nothing refused')
  })

  /** Every entry of member `index`'s own log on disk, in order (all its blocks unpacked). */
  async function ownLogEntries(dir: string, index: number): Promise<Entry[]> {
    const store = new Corestore(dir)
    const core = store.get({ keyPair: keys[index]! })
    await core.ready()
    const entries: Entry[] = []
    for (let i = 0; i < core.length; i++) {
      const block = (await core.get(i)) as Buffer
      for (const e of decodeBlock(block)) entries.push(decodeEntry(e))
    }
    await store.close()
    return entries
  }

  /** An entry's kind and what it is about (the transfer and, for a receipt, its seq). */
  function entryName(e: Entry): string {
    switch (e.type) {
      case 'request':
      case 'countersign':
        return `${e.type}:${e.transfer.id}`
      case 'receipt':
        return `receipt:${e.tx.transfer.id}:${e.tx.seq}`
      case 'reject':
        return `reject:${e.id}`
      default:
        return `${e.type}:${'epoch' in e ? e.epoch : e.checkpoint.epoch}`
    }
  }
})
