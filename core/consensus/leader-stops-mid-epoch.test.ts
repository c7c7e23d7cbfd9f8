// A leader that stops mid-epoch: the members' view change hands the epoch to the next member, which restarts it
// from the last checkpoint with every transfer both parties signed; the stopped member comes back and votes;
// nothing is counted twice, a payment that spends what an earlier one brought is kept whatever order the next
// member read them in, and one the stopped leader refused stays refused, whether or not the next leader heard it;
// so does one the next leader refused before its round reached the member that leads after it, and one the next
// leader left out before it restarted. A sender that reads the stopped leader's refusal only after the view change
// does not blame it.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import { decodeEntry } from '../protocol/entries.js'
import type { Hex } from '../protocol/types.js'
import { startCluster, untilLogged, type Cluster } from '../testing/cluster.js'
import { holdingBack } from '../testing/hold-back.js'
import type { Transport } from './transport.js'
import type { Participant, TransferRecord } from './participant.js'

const TIMING = { epochMs: 2500, leaderTimeoutMs: 1000, chainPollMs: 40 }

/** Wraps a transport so that leader 1's refusals reach its member only when `hear` (told if it was pushed) says so. */
function hidingRefusals(hear: (pushed: boolean | undefined) => boolean): (t: Transport) => Transport {
  return (t) => ({
    ...t,
    subscribe: (h) =>
      t.subscribe((author, position, bytes, pushed) => {
        if (hear(pushed) || !(author === 1 && decodeEntry(bytes).type === 'reject')) h(author, position, bytes, pushed)
      }),
  })
}

describe('leader stops mid-epoch', () => {
  const devnet = useDevnet()

  /**
   * A channel of four members with 1 ETH each, a participant for each (member `who`'s transport wrapped by `wrap`),
   * with TIMING (`timing` changing some of it).
   */
  async function fourMembers(wrap?: (t: Transport) => Transport, who = 2, timing: Partial<typeof TIMING> = {}) {
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { ...TIMING, ...timing }, ...(wrap ? { wrapTransport: { [who]: wrap } } : {}) })
    return { f, cluster }
  }

  /** Once every member runs epoch 2, led by member 1. */
  async function untilEpochTwo(cluster: Cluster): Promise<void> {
    await cluster.untilCheckpoint(1n)
    while (cluster.participants.some((p) => p.runningEpoch < 2n)) await new Promise((r) => setTimeout(r, 20))
    assert.equal(cluster.participants[0]!.currentLeader, 1)
  }

  /** The checkpoint of epoch 2, once on chain; it must be `leader`'s (by default the next leader, member 2). */
  async function landedBy({ f, cluster }: Awaited<ReturnType<typeof fourMembers>>, leader = 2) {
    await cluster.untilCheckpoint(2n, 20_000)
    const cp = (await f.channel.events()).flatMap((e) => (e.type === 'CheckpointSubmitted' && e.epoch === 2n ? [e] : []))[0]
    assert.ok(cp)
    assert.equal(cp.leader, leader, `the epoch was checkpointed by member ${leader}`)
    return cp
  }

  /**
   * Member 0's payment of 1.2 ETH to member 3 was refused and member 3's 0.5 ETH to member 0 went through: the
   * checkpoint counts the latter only, and member 0 still sees the former refused.
   */
  function fundingOnly(cp: { txCount: number; balances: readonly bigint[] }, p0: Participant, refused: TransferRecord): void {
    assert.equal(cp.txCount, 1, 'the funding payment only')
    assert.deepEqual(cp.balances, [parseEther('1.5'), parseEther('1'), parseEther('1'), parseEther('0.5')])
    assert.equal(p0.transfers().find((t) => t.transfer.id === refused.transfer.id)?.status, 'rejected', 'what its sender was told stands')
  }

  /** Waits (at most 5 s) for `p` to follow `leader`. */
  async function untilLeader(p: Participant, leader: number, why: string): Promise<void> {
    for (const until = Date.now() + 5000; p.currentLeader !== leader && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20))
    assert.equal(p.currentLeader, leader, why)
  }

  it('view change, the epoch restarts under the next member, nothing double counted', async () => {
    const { f, cluster } = await fourMembers()
    try {
      await cluster.untilCheckpoint(1n)
      const [p0, , p2, p3] = cluster.participants
      assert.ok(p0 && p2 && p3)
      while (p0.runningEpoch < 2n) await new Promise((r) => setTimeout(r, 20))
      assert.equal(p0.currentLeader, 1)

      // 12 payments receipted by leader 1, then leader 1 stops before proposing.
      const sent = await Promise.all(
        Array.from({ length: 12 }, (_, i) => cluster.participants[[0, 2, 3][i % 3] as number]!.send([1, 3, 0][i % 3] as number, 1000n + BigInt(i))),
      )
      assert.ok(sent.every((r) => r.status === 'receipted'))
      await cluster.participants[1]!.stop()

      const [change] = (await once(p0, 'view-change')) as [{ from: number; to: number }]
      assert.deepEqual([change.from, change.to], [1, 2])
      await cluster.restart(1) // it comes back, replays the logs, follows leader 2 and votes

      const cp = await landedBy({ f, cluster })
      assert.equal(cp.txCount, 12, 'every receipted payment once')
      const expected = f.members.map(() => parseEther('1'))
      for (const r of sent) {
        const from = f.members.findIndex((m) => m.address === r.transfer.from)
        const to = f.members.findIndex((m) => m.address === r.transfer.to)
        expected[from]! -= r.transfer.amount
        expected[to]! += r.transfer.amount
      }
      assert.deepEqual(cp.balances, expected)
    } finally {
      await cluster.stop()
    }
  })

  it('a payment funded by an earlier one survives the view change though the next leader read them the other way round', async () => {
    // Member 2, next in line, reads the logs of member 0 and of leader 1 late (pushes to it still come at once):
    // member 0's countersign of the payment that funds it arrives after member 2's own countersign of member 0's
    // payment to it, and leader 1's receipts, which give the order the two were paid in, only after the view change.
    const held = new Map<number, Array<() => void>>()
    const release = (author: number): void => {
      const list = held.get(author) ?? []
      held.delete(author)
      for (const deliver of list) deliver()
    }
    const slow = (t: Transport): Transport => ({
      ...t,
      subscribe: (h) =>
        t.subscribe((author, position, bytes, pushed) => {
          const list = held.get(author)
          if (list && !pushed) list.push(() => h(author, position, bytes))
          else h(author, position, bytes, pushed)
        }),
    })
    const { f, cluster } = await fourMembers(slow)
    try {
      await untilEpochTwo(cluster)
      const [p0, , , p3] = cluster.participants
      assert.ok(p0 && p3)
      held.set(0, []).set(1, [])
      const funding = await p3.send(0, parseEther('0.5'))
      assert.equal(funding.status, 'receipted')
      const spending = await p0.send(2, parseEther('1.2')) // more than member 0 held at the checkpoint
      assert.equal(spending.status, 'receipted')
      release(0)
      await cluster.participants[1]!.stop()

      const [change] = (await once(cluster.participants[2]!, 'view-change')) as [{ from: number; to: number }]
      assert.deepEqual([change.from, change.to], [1, 2])
      release(1)
      await cluster.restart(1)
      const cp = await landedBy({ f, cluster })
      assert.equal(cp.txCount, 2, 'both payments, the funded one too')
      assert.deepEqual(cp.balances, [parseEther('0.3'), parseEther('1'), parseEther('2.2'), parseEther('0.5')])
      const status = (): string | undefined => p0.transfers().find((t) => t.transfer.id === spending.transfer.id)?.status
      for (const until = Date.now() + 5000; status() !== 'checkpointed' && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50))
      assert.equal(status(), 'checkpointed', 'the sender sees its payment final, not refused')
    } finally {
      await cluster.stop()
    }
  })

  /** Member 0 pays member 3 more than it holds (leader 1 refuses), then member 3 pays it enough: that payment's record. */
  async function refuseThenFund(cluster: Cluster): Promise<{ p0: Participant; refused: TransferRecord }> {
    const [p0, , , p3] = cluster.participants
    assert.ok(p0 && p3)
    await assert.rejects(p0.send(3, parseEther('1.2')), /OVERDRAFT/)
    const refused = p0.transfers().find((t) => t.transfer.amount === parseEther('1.2'))
    assert.equal(refused?.status, 'rejected')
    assert.equal((await p3.send(0, parseEther('0.5'))).status, 'receipted') // now member 0 could pay it
    return { p0, refused }
  }

  /**
   * Member 0 pays member 3 more than it holds (its receiver countersigns, it does not judge funds; leader 1 refuses),
   * then member 3 pays it enough, then leader 1 stops (after `beforeStop`) and member 2 restarts the epoch: the
   * refused payment stays refused, what its sender was told stands. Member 2's transport is wrapped by `wrap`.
   */
  async function refusedThenFunded(wrap: ((t: Transport) => Transport) | undefined, beforeStop: (cluster: Cluster) => Promise<void>) {
    const { f, cluster } = await fourMembers(wrap)
    try {
      await untilEpochTwo(cluster)
      const { p0, refused } = await refuseThenFund(cluster)
      await beforeStop(cluster)
      await cluster.participants[1]!.stop()

      const [change] = (await once(p0, 'view-change')) as [{ from: number; to: number }]
      assert.deepEqual([change.from, change.to], [1, 2])
      await cluster.restart(1)
      fundingOnly(await landedBy({ f, cluster }), p0, refused)
    } finally {
      await cluster.stop()
    }
  }

  it('a payment the stopped leader refused stays refused, though money came in for it before the view change', async () => {
    await refusedThenFunded(undefined, async (cluster) => {
      await untilLogged(cluster, 1, 'reject')
      await new Promise((r) => setTimeout(r, 200)) // member 2 reads leader 1's log
    })
  })

  it('a payment the stopped leader refused stays refused with money in for it, the next leader having only its push', async () => {
    // Member 2, next in line and not party to the payment, never reads leader 1's refusal from its log (the leader
    // stopped before storing it): only the refusal pushed to every member tells it.
    await refusedThenFunded(hidingRefusals((pushed) => pushed === true), async () => {})
  })

  it('a payment the stopped leader refused, unknown to the next one, is refused again, not admitted when money comes', async () => {
    // Member 2, next in line, never hears leader 1's refusal of member 0's payment (the push and the log copy lost).
    let dropping = false
    const { f, cluster } = await fourMembers(hidingRefusals(() => !dropping))
    try {
      await untilEpochTwo(cluster)
      const [p0, , , p3] = cluster.participants
      assert.ok(p0 && p3)
      dropping = true
      await assert.rejects(p0.send(3, parseEther('1.2')), /OVERDRAFT/)
      const short = p0.transfers().find((t) => t.transfer.amount === parseEther('1.2'))
      assert.ok(short)
      await cluster.participants[1]!.stop()
      await once(cluster.participants[2]!, 'view-change')
      await cluster.restart(1)
      // Money for it comes in under the new leader: had the payment been kept waiting, it would now go through.
      assert.equal((await p3.send(0, parseEther('0.5'))).status, 'receipted')
      fundingOnly(await landedBy({ f, cluster }), p0, short)
      const byNewLeader = Array.from({ length: cluster.bus.length(2) }, (_, i) => decodeEntry(cluster.bus.entry(2, i)))
      const answer = byNewLeader.find((e) => e.type === 'reject' && e.id === short.transfer.id)
      assert.equal(answer?.type === 'reject' && answer.reason, 'OVERDRAFT', 'the new leader refused it when it restarted the epoch')
    } finally {
      await cluster.stop()
    }
  })

  it('a payment the next leader refused before its round reached a member stays refused when that member leads after it', async () => {
    // Member 3 hears the view change from leader 1 to member 2 late (the others' votes reach it only by their logs,
    // held back), and member 2's refusal of member 0's payment first, by push. Money for that payment then comes in
    // under member 2, member 2 stops, and member 3 restarts the epoch: the refused payment must stay out.
    let holding = false
    const held: Array<() => void> = []
    let refusalPushed: (() => void) | undefined
    const late = (t: Transport): Transport => ({
      ...t,
      subscribe: (h) =>
        t.subscribe((author, position, bytes, pushed) => {
          if (!holding || author === 3) return h(author, position, bytes, pushed)
          const type = decodeEntry(bytes).type
          if (pushed && type === 'view-change') return // its log copy comes later, in order
          if (!pushed) return void held.push(() => h(author, position, bytes))
          h(author, position, bytes, pushed)
          if (author === 2 && type === 'reject') refusalPushed?.()
        }),
    })
    // Member 2's round must not close by time before it stops: a longer epoch.
    const { f, cluster } = await fourMembers(late, 3, { epochMs: 6000 })
    try {
      await untilEpochTwo(cluster)
      const [p0, , p2, p3] = cluster.participants
      assert.ok(p0 && p2 && p3)
      holding = true
      await cluster.participants[1]!.stop()
      const [change] = (await once(p0, 'view-change')) as [{ from: number; to: number }]
      assert.deepEqual([change.from, change.to], [1, 2])
      assert.equal(p3.currentLeader, 1, 'member 3 has not heard the change yet')

      const heard = new Promise<void>((resolve) => (refusalPushed = resolve))
      await assert.rejects(p0.send(2, parseEther('1.2')), /OVERDRAFT/) // member 2 leads and refuses it
      const refused = p0.transfers().find((t) => t.transfer.amount === parseEther('1.2'))
      assert.equal(refused?.status, 'rejected')
      await heard
      assert.equal(p3.currentLeader, 1, 'member 3 read the refusal before the change')
      holding = false
      for (const deliver of held.splice(0)) deliver()
      await untilLeader(p3, 2, 'member 3 follows member 2 once the votes reach it')

      assert.equal((await p3.send(0, parseEther('0.5'))).status, 'receipted') // now member 0 could pay it
      await p2.stop()
      await cluster.restart(1)
      const [second] = (await once(p3, 'view-change')) as [{ from: number; to: number }]
      assert.deepEqual([second.from, second.to], [2, 3])
      await cluster.restart(2)
      fundingOnly(await landedBy({ f, cluster }, 3), p0, refused)
    } finally {
      await cluster.stop()
    }
  })

  it('a payment a stopped leader refused stays refused when the next leader restarts and reads that leader late', async () => {
    // Member 2 leads after leader 1 and leaves out the payment leader 1 refused; then member 2 restarts, and reads
    // leader 1's log only after the view change has handed it the epoch again (its own log and the others' first).
    let holding = false
    const late = holdingBack((author, _, pushed) => holding && author === 1 && !pushed)
    const { f, cluster } = await fourMembers(late.wrap, 2, { epochMs: 6000 })
    try {
      await untilEpochTwo(cluster)
      const { p0, refused } = await refuseThenFund(cluster)
      await untilLogged(cluster, 1, 'reject')
      await cluster.participants[1]!.stop()
      const [change] = (await once(p0, 'view-change')) as [{ from: number; to: number }]
      assert.deepEqual([change.from, change.to], [1, 2])
      await untilLogged(cluster, 2, 'receipt') // member 2 restarted the epoch: the funding payment again
      holding = true
      const p2 = await cluster.restart(2)
      await untilLeader(p2, 2, 'restarted, member 2 leads the epoch again')
      await new Promise((r) => setTimeout(r, 300)) // it readmits what both parties signed
      late.release()
      await cluster.restart(1)
      fundingOnly(await landedBy({ f, cluster }), p0, refused)
    } finally {
      await cluster.stop()
    }
  })

  it('a sender that reads the stopped leader\'s refusal only after the view change does not blame that leader', async () => {
    // Member 0 hears leader 1's refusal of its payment (push and log copy) only once it follows member 2, and before
    // member 2's own refusal of it: a refusal by a leader of an earlier round of the epoch, not junk. (Its payment
    // stays open: the running leader may not have heard that refusal, so only its own word or the checkpoint tells.)
    const late = holdingBack((author, bytes) => (author === 1 || author === 2) && decodeEntry(bytes).type === 'reject')
    const { f, cluster } = await fourMembers(late.wrap, 0)
    try {
      await untilEpochTwo(cluster)
      const p0 = cluster.participants[0]!
      p0.send(3, parseEther('1.2')).catch(() => {}) // more than it holds: leader 1 refuses it
      await untilLogged(cluster, 1, 'reject')
      await cluster.participants[1]!.stop()
      await untilLeader(p0, 2, 'member 0 follows member 2')
      late.release()
      await cluster.restart(1)
      const cp = await landedBy({ f, cluster })
      assert.equal(cp.txCount, 0)
      assert.equal(p0.misbehaviour.get(1) ?? 0, 0, 'leader 1 not blamed')
    } finally {
      await cluster.stop()
    }
  })
})
