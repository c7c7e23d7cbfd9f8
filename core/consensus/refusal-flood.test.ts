// A member whose requests a receiver must refuse (ids already paid, a sender at its cap, one that exited or joined
// mid-epoch) cannot make that receiver write a refusal for each request of a flood: at most the transfer cap's worth
// a sender an epoch (as many as the countersigns it could have), the rest left unanswered. Each refusal is a write of
// the receiver's that every member reads. And a refusal is pushed to whoever must act on it now.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet, type ChannelFixture } from '../../contracts/test/fixture.js'
import { decodeEntry, encodeEntry } from '../protocol/entries.js'
import { ChannelDigests, signDigest } from '../protocol/signatures.js'
import type { Hex } from '../protocol/types.js'
import { cappedChannel, logged, startCluster, startTrading, type Cluster } from '../testing/cluster.js'
import { until } from '../testing/until.js'
import type { Transport } from './transport.js'

const TX_CAP = 4

/** Writes `flooder`'s request to `receiver` under `id` by hand (its log, pushed to the receiver), as a hostile member would. */
async function requestUnder(f: ChannelFixture, cluster: Cluster, flooder: number, receiver: number, id: Hex): Promise<void> {
  const digests = new ChannelDigests(await f.channel.domain())
  const transfer = { id, epoch: 2n, from: f.member(flooder).address, to: f.member(receiver).address, amount: 1n }
  const senderSig = signDigest(f.member(flooder).key, digests.transfer(transfer))
  await cluster.bus.connect(flooder).append([encodeEntry({ type: 'request', transfer, senderSig })], [[receiver]])
}

describe('a flood of requests the receiver must refuse', () => {
  const devnet = useDevnet()

  it("gets at most the cap's worth of refusals a sender an epoch; no member is blamed", async () => {
    const { f, cluster } = await cappedChannel(devnet(), 7, TX_CAP)
    try {
      const ps = cluster.participants
      const leader = ps[0]!.currentLeader
      const [receiver, flooder, a, b, c, d] = [1, 2, 3, 4, 5, 6].map((k) => (leader + k) % 7) as [number, number, number, number, number, number]
      // Six payments between two other pairs, each pair below the cap (the epoch goes on): their ids are paid.
      const paid = await Promise.all([
        ...[1n, 2n, 3n].map((amount) => ps[a]!.send(b, amount)),
        ...[1n, 2n, 3n].map((amount) => ps[c]!.send(d, amount)),
      ])
      const ids = paid.map((r) => r.transfer.id)
      // The receiver's copy of the ledger holds them (it reads the leader's receipts from its log).
      await until(() => ps[receiver]!.balanceOf(b) === parseEther('1') + 6n && ps[receiver]!.balanceOf(d) === parseEther('1') + 6n, "the receiver's ledger holds the six payments")

      // The flooder asks the receiver under each paid id: each one the receiver must refuse as a duplicate, none it
      // has answered before.
      for (const id of ids) await requestUnder(f, cluster, flooder, receiver, id)
      const refusals = (): number => logged(cluster, receiver).filter((e) => e.type === 'reject' && ids.includes(e.id)).length
      await until(() => refusals() >= TX_CAP, 'the refusals')
      await new Promise((r) => setTimeout(r, 500)) // time for any more to be written
      assert.equal(refusals(), TX_CAP, 'refusals written for the flood')
      for (const e of logged(cluster, receiver)) {
        if (e.type === 'reject' && ids.includes(e.id)) assert.equal(e.reason, 'DUPLICATE_ID')
      }
      assert.equal(ps[receiver]!.runningEpoch, 2n, 'the flood was answered within the epoch')
      for (const [i, p] of ps.entries()) {
        for (const m of ps.keys()) assert.equal(p.misbehaviour.get(m) ?? 0, 0, `member ${i} blamed member ${m}`)
      }
    } finally {
      await cluster.stop()
    }
  })

  it("is pushed to every member when final (a next leader must know it), a receiver's to the sender alone", async () => {
    const f = await openChannel(devnet(), { members: 5, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    /** Who each member pushed each of its refusals to. */
    const pushed: Array<{ author: number; reason: string; to: number[] }> = []
    const recording = (author: number) => (t: Transport): Transport => ({
      ...t,
      append: (entries, recipients, soon) => {
        entries.forEach((bytes, i) => {
          const e = decodeEntry(bytes)
          if (e.type === 'reject') pushed.push({ author, reason: e.reason, to: [...(recipients?.[i] ?? [])].sort() })
        })
        return t.append(entries, recipients, soon)
      },
    })
    const timing = { epochMs: 60_000, leaderTimeoutMs: 60_000, chainPollMs: 40 }
    const cluster = await startCluster(f.channel, devnet(), keys, { timing, wrapTransport: Object.fromEntries(keys.map((_, i) => [i, recording(i)])) })
    try {
      await startTrading(cluster)
      const ps = cluster.participants
      const leader = ps[0]!.currentLeader
      const [sender, receiver, a, b] = [1, 2, 3, 4].map((k) => (leader + k) % 5) as [number, number, number, number]
      // More than the sender holds: the receiver countersigns (the leader judges funds), the leader refuses, for
      // good: every member hears it at once, since whoever leads a round restarted after a view change must not
      // admit the countersigned transfer again (the sender, told it failed, may have paid anew).
      await assert.rejects(ps[sender]!.send(receiver, parseEther('2')), /OVERDRAFT/)
      assert.deepEqual(pushed, [{ author: leader, reason: 'OVERDRAFT', to: [0, 1, 2, 3, 4].filter((i) => i !== leader) }])
      // A request under an id already paid: the receiver refuses it, to its sender alone.
      const paid = await ps[a]!.send(b, 1n)
      await until(() => ps[receiver]!.balanceOf(b) === parseEther('1') + 1n, "the receiver's ledger holds the payment")
      await requestUnder(f, cluster, sender, receiver, paid.transfer.id)
      await until(() => pushed.length === 2, 'the refusal')
      assert.deepEqual(pushed[1], { author: receiver, reason: 'DUPLICATE_ID', to: [sender] })
    } finally {
      await cluster.stop()
    }
  })
})
