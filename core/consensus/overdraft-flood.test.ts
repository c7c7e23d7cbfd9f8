// A member short of funds flooding another with payment requests cannot use up the room that member has to be paid
// in an epoch: the countersigns the leader refuses do not count against the receiver's cap, and once the leader has
// refused a sender's payments as unpayable a few times, the receiver leaves unanswered what its own count finds
// short instead of countersigning it. Honest payments to the receiver then go through in the same epoch.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { useDevnet } from '../../contracts/test/fixture.js'
import { encodeEntry } from '../protocol/entries.js'
import { ChannelDigests, randomTransferId, signDigest } from '../protocol/signatures.js'
import type { Hex, Transfer } from '../protocol/types.js'
import { cappedChannel, logged, type Cluster } from '../testing/cluster.js'
import { TransferRejected, type TransferRecord } from './participant.js'

const TX_CAP = 4

/** Resolves with what `sending` gave, or rejects after `ms`. */
function within<T>(ms: number, sending: Promise<T>, what: string): Promise<T> {
  return Promise.race([sending, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} not done within ${ms} ms`)), ms))])
}

/** The transfers the settled sends were refused with, and why. */
function refusals(settled: PromiseSettledResult<TransferRecord>[]): Array<{ code: string; transfer: Transfer }> {
  return settled.map((s) => {
    assert.equal(s.status, 'rejected', 'a payment its sender cannot fund went through')
    assert.ok(s.reason instanceof TransferRejected)
    return { code: s.reason.code, transfer: s.reason.transfer }
  })
}

/** Epoch 2's leader, and the three others: one paid, one flooding it, one paying it honestly. */
function roles(cluster: Cluster) {
  const ps = cluster.participants
  const leader = ps[0]!.currentLeader
  const [receiver, flooder, honest] = [1, 2, 3].map((k) => (leader + k) % 4) as [number, number, number]
  return { ps, leader, receiver, flooder, honest }
}

/** Resolves once `done` holds, or rejects after `ms`. */
function until(ms: number, done: () => boolean, what: string): Promise<void> {
  return within(ms, (async () => { while (!done()) await new Promise((r) => setTimeout(r, 20)) })(), what)
}

describe('a flood of requests its sender cannot pay', () => {
  const devnet = useDevnet()

  it("does not use up the receiver's room: honest payments to it land in the same epoch, no member blamed", async () => {
    const { f, cluster } = await cappedChannel(devnet(), 4, TX_CAP)
    try {
      const { ps, receiver, flooder, honest } = roles(cluster)

      // As many requests as the cap, each for twice what the flooder holds: the receiver countersigns them (its view
      // of the flooder's balance may lag, so it leaves funds to the leader), the leader refuses them all.
      const flood = await within(20_000, Promise.allSettled(Array.from({ length: TX_CAP }, () => ps[flooder]!.send(receiver, parseEther('2')))), 'the flood')
      for (const r of refusals(flood)) assert.equal(r.code, 'OVERDRAFT')

      // Refused that often, the flooder's next requests are left unanswered by the receiver (its own count finds
      // them short), neither countersigned nor written a refusal for: they would go out again next epoch.
      const second = [1, 2].map(() => ps[flooder]!.send(receiver, parseEther('2')))
      for (const p of second) p.catch(() => {}) // still open when the cluster stops
      const more = ps[flooder]!.transfers().slice(-2)

      // The receiver still has its whole cap to be paid with, in this epoch (60 s long: only the cap closes it).
      const paid = await within(15_000, Promise.all(Array.from({ length: TX_CAP }, (_, i) => ps[honest]!.send(receiver, 1000n + BigInt(i)))), 'the honest payments')
      const receiverLog = logged(cluster, receiver)
      for (const { transfer } of more) {
        assert.equal(transfer.amount, parseEther('2'))
        const answers = receiverLog.filter((e) => (e.type === 'reject' && e.id === transfer.id) || (e.type === 'countersign' && e.transfer.id === transfer.id))
        assert.deepEqual(answers, [], 'the second flood is not answered')
      }
      for (const r of paid) {
        assert.ok(r.status === 'receipted' || r.status === 'checkpointed', r.status)
        assert.equal(r.transfer.epoch, 2n, 'paid in the epoch of the flood')
      }
      await cluster.untilCheckpoint(2n, 20_000) // the receiver at the cap closes the epoch
      const cp = (await f.channel.checkpoints()).find((c) => c.epoch === 2n)
      assert.equal(cp?.txCount, TX_CAP, 'the honest payments, and nothing of the flood')
      assert.equal(cp.balances[receiver]! - cp.balances[honest]!, 2n * (1000n + 1001n + 1002n + 1003n))
      for (const [i, p] of ps.entries()) {
        for (const m of [0, 1, 2, 3]) assert.equal(p.misbehaviour.get(m) ?? 0, 0, `member ${i} blamed member ${m}`)
      }
    } finally {
      await cluster.stop()
    }
  })

  it("under ids the leader already refused other transfers by: the leader refuses each, the receiver's room comes back", async () => {
    const { f, cluster } = await cappedChannel(devnet(), 4, TX_CAP)
    try {
      const { ps, leader, receiver, flooder, honest } = roles(cluster)
      const digests = new ChannelDigests(await f.channel.domain())
      /** The flooder's own request (its log, pushed to the payee), written by hand to choose its id. */
      const request = async (to: number, id: Hex): Promise<void> => {
        const transfer = { id, epoch: 2n, from: f.member(flooder).address, to: f.member(to).address, amount: parseEther('2') }
        const senderSig = signDigest(f.member(flooder).key, digests.transfer(transfer))
        await cluster.bus.connect(flooder).append([encodeEntry({ type: 'request', transfer, senderSig })], [[to]])
      }
      const ids = Array.from({ length: TX_CAP }, () => randomTransferId())
      /** Whether the leader's log refuses every one of `ids` at least `times` times. */
      const refused = (times: number) => (): boolean => {
        const rejects = logged(cluster, leader).flatMap((e) => (e.type === 'reject' ? [e.id] : []))
        return ids.every((id) => rejects.filter((r) => r === id).length >= times)
      }
      // Payments to the leader it cannot fund: the leader, their receiver, countersigns and refuses each.
      for (const id of ids) await request(leader, id)
      await until(20_000, refused(1), 'the refusals')
      // Then as many to the receiver under the same ids: refused by the leader too (a refusal was once written per
      // id, so these went unanswered and the receiver's room stayed taken).
      for (const id of ids) await request(receiver, id)
      await until(20_000, refused(2), 'the second refusals')
      const paid = await within(15_000, Promise.all(Array.from({ length: TX_CAP }, (_, i) => ps[honest]!.send(receiver, 1000n + BigInt(i)))), 'the honest payments')
      for (const r of paid) assert.equal(r.transfer.epoch, 2n, 'paid in the epoch of the flood')
      await cluster.untilCheckpoint(2n, 20_000) // the receiver at the cap closes the epoch
      assert.equal((await f.channel.checkpoints()).find((c) => c.epoch === 2n)?.txCount, TX_CAP)
    } finally {
      await cluster.stop()
    }
  })
})
