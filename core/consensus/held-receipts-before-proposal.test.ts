// A restarted member that reads the new leader's receipts before the view change that made it leader (found by the
// soak): it holds them back as another leader's, and once the view change completes it handed them back behind
// entries already queued, the leader's proposal among them. It judged the proposal on a ledger without those
// receipts, found it wrong and challenged an honest leader (and lost). Held-back entries now go first.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import { decodeEntry } from '../protocol/entries.js'
import type { Hex } from '../protocol/types.js'
import type { EntryHandler, Transport } from './transport.js'
import { silenceSecondLeader, startCluster, untilLogged } from '../testing/cluster.js'

/**
 * From its second start on, member `me` reads the logs in one order a batched reader may give (each log in order):
 * its own, then every log but `leader`'s proposal and what follows it, then that.
 */
function proposalLast(leader: number): (t: Transport) => Transport {
  let starts = 0
  return (t) => ({
    append: (e, r) => t.append(e, r),
    subscribe(handler: EntryHandler) {
      if (++starts === 1) return t.subscribe(handler)
      let held: Array<[number, number, Uint8Array]> | undefined = []
      const release = (): void => {
        const all = held ?? []
        held = undefined
        const cut = all.findIndex(([a, , b]) => a === leader && decodeEntry(b).type === 'proposal')
        const last = cut < 0 ? [] : all.filter(([a, p]) => a === leader && p >= all[cut]![1])
        for (const x of [...all.filter((x) => !last.includes(x)), ...last]) handler(...x)
      }
      const un = t.subscribe((author, position, bytes, pushed) => {
        if (held && !pushed) return void held.push([author, position, bytes])
        handler(author, position, bytes, pushed)
      })
      setTimeout(release, 50) // the history comes in one burst
      return un
    },
  })
}

describe('a restarted member that reads the new leader\'s receipts before the view change', () => {
  const devnet = useDevnet()
  it('judges that leader\'s proposal with its receipts: it votes, nobody challenges', async () => {
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1'), params: { challengeWindow: 2n } }) // member 1 stays away: a majority's checkpoint
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const lines: string[] = []
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 4000, leaderTimeoutMs: 1000, chainPollMs: 40 },
      wrapTransport: { 0: proposalLast(2) },
      onLog: (i, line) => {
        if (process.env.TRACE) console.log(`[${i}] ${line}`)
        if (i === 0) lines.push(line)
      },
    })
    try {
      await silenceSecondLeader(cluster) // view change from leader 1 to 2
      const sent = await Promise.all([[0, 3, 1001n], [3, 0, 1002n], [0, 2, 1003n], [3, 2, 1004n]].map(([a, b, x]) => cluster.participants[Number(a)]!.send(Number(b), x as bigint)))
      assert.ok(sent.every((r) => r.status === 'receipted'))
      // Member 0 is away when leader 2 proposes, and comes back to judge the proposal.
      await cluster.restart(0, () => untilLogged(cluster, 2, 'proposal'))
      await cluster.untilCheckpoint(2n, 30_000)
      const events = await f.channel.events()
      assert.deepEqual(lines.filter((l) => l.includes('disagrees')), [])
      assert.equal(events.filter((e) => e.type === 'Challenged').length, 0, 'no challenge')
      const cp = events.flatMap((e) => (e.type === 'CheckpointSubmitted' && e.epoch === 2n ? [e] : []))[0]
      assert.equal(cp?.leader, 2)
      assert.equal(cp?.txCount, 4)
    } finally {
      await cluster.stop()
    }
  })
})
