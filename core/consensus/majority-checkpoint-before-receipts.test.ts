// A restarted member whose logs are still replaying when a majority's checkpoint it did not vote for goes on chain
// (found by the 30-minute soak): it judged that checkpoint from the chain at once, on a ledger without the leader's
// receipts of the epoch (read seconds later, then refused as closed), and disagreed; with a payment of its own in
// it, it challenged an honest leader and lost. It now judges once the leader's proposal has come through its log
// (its receipts before it), or after a leader timeout, within the challenge window.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import type { EntryHandler, Transport } from './transport.js'
import { startCluster, untilLogged } from '../testing/cluster.js'

/** From its second start on, member `me` hears the others' logs only after `ms` (a long replay), in order. */
function slowReplay(me: number, ms: number): (t: Transport) => Transport {
  let starts = 0
  return (t) => ({
    append: (e, r) => t.append(e, r),
    subscribe(handler: EntryHandler) {
      if (++starts === 1) return t.subscribe(handler)
      let held: Array<Parameters<EntryHandler>> | undefined = []
      setTimeout(() => {
        for (const x of held ?? []) handler(...x)
        held = undefined
      }, ms)
      return t.subscribe((...x) => {
        if (held && x[0] !== me) held.push(x)
        else handler(...x)
      })
    },
  })
}

describe('a restarted member still replaying when a majority\'s checkpoint goes on chain', () => {
  const devnet = useDevnet()
  it('judges it with the leader\'s receipts: nobody challenges, its payments are final', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1'), params: { challengeWindow: 30n } })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const lines: string[] = []
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 3000, leaderTimeoutMs: 1000, chainPollMs: 40 },
      wrapTransport: { 2: slowReplay(2, 6000) },
      onLog: (i, line) => {
        if (process.env.TRACE) console.log(`[${i}] ${line}`)
        if (i === 2) lines.push(line)
      },
    })
    try {
      await cluster.untilCheckpoint(1n)
      const p0 = cluster.participants[0]!
      while (p0.runningEpoch < 2n || p0.currentLeader === 2) await new Promise((r) => setTimeout(r, 20))
      const leader = p0.currentLeader
      const sent = await cluster.participants[2]!.send(0, 1234n)
      assert.equal(sent.status, 'receipted')
      const epoch = sent.transfer.epoch
      // Member 2 is away when the leader proposes, and back before the leader gives up waiting for its vote.
      await cluster.restart(2, () => untilLogged(cluster, leader, 'proposal'))
      await cluster.untilCheckpoint(epoch, 60_000)
      const events = await f.channel.events()
      assert.equal(events.filter((e) => e.type === 'CheckpointProposed').length, 1, 'a majority\'s checkpoint')
      assert.deepEqual(lines.filter((l) => l.includes('disagrees')), [])
      assert.equal(events.filter((e) => e.type === 'Challenged').length, 0, 'no challenge')
    } finally {
      await cluster.stop()
    }
  })
})
