// A member muted for junk while its epoch changes leader (the soak's junk writer is muted in any epoch that lasts a few
// seconds more than usual, as one with a view change does; the first case is a soak failure, the last was found by
// reading the code after the soak stopped once in CI). A muted member gets no signature
// work from the others, but what it did before, and what nobody else can do, still counts:
// - its countersign of a payment the replaced leader receipted is readmitted by the next leader, whether that one read
//   it before the muting (it was dropped when the round restarted) or after (a pushed countersign outruns the junk in
//   its author's log: it was skipped). The payer, told its payment was receipted, saw it go out again (and, with its
//   re-issues used up, end unpaid). Likewise when the leader of a later round reads the replaced leader's receipt
//   late (a restarted member replays the logs in no fixed order): after its round started, or after the view change
//   but before a second one made it leader;
// - as the last member left to lead the epoch (a view change never gives a member a second round of an epoch, so
//   nobody can replace it), its proposal is judged once a round: the members skipped it, voted to replace it in vain,
//   and the channel stopped for good. Read before the view change that makes it leader (pushed to all at once), it is
//   held like anyone's: skipped, that member voted only once a majority's checkpoint went on chain, after a window.
// And a replaced leader cannot use the late-receipt path to cost the next leader signature checks without end: its
// made-up receipts are blamed on it, and once it is muted they are passed over.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import { openChannel, useDevnet, type ChannelFixture } from '../../contracts/test/fixture.js'
import type { Hex } from '../protocol/types.js'
import { silenceSecondLeader, startCluster, startTrading, type Cluster } from '../testing/cluster.js'
import { holdingBack } from '../testing/hold-back.js'
import { until } from '../testing/until.js'
import { decodeEntry, encodeEntry } from '../protocol/entries.js'
import { hashTransfer } from '../protocol/eip712.js'
import { sign } from '../protocol/fast-ecdsa.js'
import { randomTransferId } from '../protocol/signatures.js'
import { makeReceipted, makeTransfer } from '../protocol/types.js'
import { MUTE_AFTER } from './misbehaviour.js'
import type { Transport } from './transport.js'

const JUNK_WRITER = 0 // leads epoch 2's last round in the last case: the rotation goes 1, 2, 3, 0

/** Resolves once member `watcher` follows `leader`. */
async function follows(cluster: Cluster, watcher: number, leader: number): Promise<void> {
  await until(() => cluster.participants[watcher]!.currentLeader === leader, `member ${watcher} follows ${leader}`)
}

/** Stops `leader`, which leads the running round, and resolves once member `watcher` follows `next`. */
async function replace(cluster: Cluster, leader: number, next: number, watcher: number): Promise<void> {
  await cluster.participants[leader]!.stop()
  await follows(cluster, watcher, next)
}

const decodes = (bytes: Uint8Array): boolean => {
  try {
    decodeEntry(bytes)
    return true
  } catch {
    return false
  }
}

/** Undecodable entries in `member`'s log: every member mutes it for the rest of the running epoch. */
async function muteForJunk(cluster: Cluster, member: number): Promise<void> {
  await cluster.bus.connect(member).append(Array.from({ length: MUTE_AFTER + 16 }, (_, i) => Buffer.from(`junk ${i}`)))
}

/** Holds back the receipts of epoch 2 `leader` wrote (pushed or read from its log) until `release`. */
function receiptsOf(leader: number) {
  return holdingBack((author, bytes) => {
    const e = author === leader && decodes(bytes) ? decodeEntry(bytes) : undefined
    return e?.type === 'receipt' && e.tx.transfer.epoch === 2n
  })
}

/** Resolves once member `by` has muted `member` for junk. */
async function mutedBy(cluster: Cluster, by: number, member: number): Promise<void> {
  await until(() => (cluster.participants[by]!.misbehaviour.get(member) ?? 0) >= MUTE_AFTER, `member ${by} mutes ${member}`)
}

/** Leader 1 never reads `member`'s junk, as if `member`'s countersign's push outran it. */
const withoutJunkOf =
  (member: number) =>
  (t: Transport): Transport => ({
    ...t,
    subscribe: (h) => t.subscribe((author, position, bytes, pushed) => (author === member && !decodes(bytes) ? undefined : h(author, position, bytes, pushed))),
  })

/**
 * The checkpoint of epoch 2, once on chain: by `leader`, counting the one payment the case made (in the epoch it was
 * receipted in).
 */
async function epochTwoLanded(f: ChannelFixture, cluster: Cluster, leader: number) {
  await cluster.untilCheckpoint(2n, 30_000)
  const cp = (await f.channel.events()).find((e) => e.type === 'CheckpointSubmitted' && e.epoch === 2n)
  assert.ok(cp?.type === 'CheckpointSubmitted')
  assert.equal(cp.leader, leader)
  assert.equal(cp.txCount, 1, 'the payment is in the checkpoint of the epoch it was receipted in')
  return cp
}

describe('a member muted for junk across view changes', () => {
  const devnet = useDevnet()

  /**
   * Epoch 2: member 0 pays member 3, leader 1 receipts it; member 3 is muted for junk (before its countersign is
   * written, when `junkFirst`; leader 1 then never reads the junk, as if the countersign's push outran it); a view
   * change hands the epoch to member 2, which must readmit the payment. With `receiptLate`, member 2 reads leader 1's
   * receipt only once its own round has started (a restarted member replays the logs in no fixed order).
   */
  async function receiptedThenReplaced({ junkFirst = false, receiptLate = false }): Promise<void> {
    const payee = 3
    // The muted payee's vote goes unheard: epoch 2 lands with a majority's votes after a short window.
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1'), params: { challengeWindow: 2n } })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const late = receiptsOf(1)
    const wrapTransport: Record<number, (t: Transport) => Transport> = {}
    if (junkFirst) wrapTransport[1] = withoutJunkOf(payee)
    if (receiptLate) wrapTransport[2] = late.wrap
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { epochMs: 4000, leaderTimeoutMs: 1000, chainPollMs: 40 }, wrapTransport })
    try {
      await startTrading(cluster) // epoch 2, led by member 1
      if (junkFirst) {
        await muteForJunk(cluster, payee)
        await mutedBy(cluster, 2, payee)
      }
      // Receipted by leader 1; member 2, which leads next, keeps the payee's countersign as it came (or, the payee
      // muted already, skips it).
      const paid = await cluster.participants[0]!.send(payee, parseEther('0.1'))
      const id = paid.transfer.id
      if (!junkFirst) await muteForJunk(cluster, payee)
      if (receiptLate) await mutedBy(cluster, 2, payee) // else member 2's round would decode the countersign: nothing to stand in for
      await replace(cluster, 1, 2, 0)
      if (receiptLate) {
        await follows(cluster, 2, 2)
        late.release()
      }
      await cluster.restart(1) // its vote makes the majority
      const cp = await epochTwoLanded(f, cluster, 2)
      assert.deepEqual(cp.balances, [parseEther('0.9'), parseEther('1'), parseEther('1'), parseEther('1.1')])
      await until(() => paid.status === 'checkpointed', 'its payer sees the payment checkpointed')
      assert.equal(paid.transfer.id, id, 'not sent again')
      assert.ok((cluster.participants[2]!.misbehaviour.get(payee) ?? 0) >= MUTE_AFTER, 'the new leader muted the payee')
    } finally {
      await cluster.stop()
    }
  }

  it('its countersign of a payment the replaced leader receipted, read before the muting, is readmitted', () => receiptedThenReplaced({}))
  it('its countersign of a payment the replaced leader receipted, read after the muting, is readmitted', () => receiptedThenReplaced({ junkFirst: true }))
  it('a payment to it the replaced leader receipted is readmitted when the new leader reads that receipt late', () => receiptedThenReplaced({ receiptLate: true }))

  it('a payment to it that a replaced leader receipted, read by a member only after that view change, is readmitted when that member leads', async () => {
    const payee = JUNK_WRITER
    const payer = 3 // leads epoch 2's third round
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1'), params: { challengeWindow: 2n } })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    // Member 3 reads leader 1's receipts only once member 2 leads, and leader 2's (which hold the payment again: the
    // payee was muted before leader 2's round began) never: only what it read late tells it of the payment.
    const [late, never] = [receiptsOf(1), receiptsOf(2)]
    // Leader 2 must not propose before it is stopped, after leader 1's restart.
    const cluster = await startCluster(f.channel, devnet(), keys, {
      timing: { epochMs: 10_000, leaderTimeoutMs: 1000, chainPollMs: 40 },
      wrapTransport: { 1: withoutJunkOf(payee), [payer]: (t) => late.wrap(never.wrap(t)) },
    })
    try {
      await startTrading(cluster) // epoch 2, led by member 1
      await muteForJunk(cluster, payee)
      await mutedBy(cluster, payer, payee) // its countersign is skipped
      // Not told receipted by leader 1: it reads that receipt only after leader 1 was replaced.
      const paying = cluster.participants[payer]!.send(payee, parseEther('0.1'))
      await until(() => cluster.participants[1]!.progress().receipts >= 1, 'leader 1 receipts the payment')
      const sentId = cluster.participants[payer]!.transfers()[0]?.transfer.id // a string: the record's id may change
      await replace(cluster, 1, 2, payer)
      late.release()
      await cluster.restart(1)
      await replace(cluster, 2, payer, 0)
      await cluster.restart(2)
      const cp = await epochTwoLanded(f, cluster, payer)
      assert.deepEqual(cp.balances, [parseEther('1.1'), parseEther('1'), parseEther('1'), parseEther('0.9')])
      const paid = await paying
      await until(() => paid.status === 'checkpointed', 'its payer sees the payment checkpointed')
      assert.equal(paid.transfer.id, sentId, 'not sent again')
    } finally {
      await cluster.stop()
    }
  })

  it("a replaced leader's made-up receipts to it, read late, cost the new leader signature checks until that leader is muted", async () => {
    const payee = 3
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { epochMs: 8000, leaderTimeoutMs: 1000, chainPollMs: 40 } })
    try {
      await startTrading(cluster) // epoch 2, led by member 1
      await muteForJunk(cluster, payee)
      await mutedBy(cluster, 2, payee)
      await replace(cluster, 1, 2, 2)
      // Leader 1's log, after it was replaced: payments from member 0 to the muted payee that neither signed (both
      // signatures are leader 1's), as many as a flood needs; every other one for more than member 0 holds (the
      // ledger refuses it for want of funds before any signature check).
      const fake = MUTE_AFTER * 4
      const [from, to] = [f.members[0]!.wallet.address, f.members[payee]!.wallet.address]
      const bogus = Array.from({ length: fake }, (_, seq) => {
        const t = makeTransfer(randomTransferId(), 2n, from, to, seq % 2 === 0 ? 1n : parseEther('5'))
        const s = sign(keys[1]!, hashTransfer(t))
        return encodeEntry({ type: 'receipt', tx: makeReceipted(t, seq, s, s, s) })
      })
      await cluster.bus.connect(1).append(bogus)
      const p2 = cluster.participants[2]!
      await until(() => (p2.misbehaviour.get(1) ?? 0) >= fake, 'member 2 reads them all')
      assert.equal(p2.misbehaviour.get(1), fake)
      assert.equal(fake - (p2.skipped.get(1) ?? 0), MUTE_AFTER, 'checked until leader 1 was muted, then passed over')
      assert.equal(p2.progress().receipts, 0, 'none admitted')
    } finally {
      await cluster.stop()
    }
  })

  it('as the last member left to lead the epoch, its proposal is judged: the epoch lands, with the payment it receipted', async () => {
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    // Leaders propose 4 s into their round: each is stopped before it does.
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { epochMs: 4000, leaderTimeoutMs: 1000, chainPollMs: 40 } })
    try {
      await silenceSecondLeader(cluster) // view change from leader 1 to 2
      await cluster.restart(1)
      await replace(cluster, 2, 3, 1)
      await cluster.restart(2)
      await replace(cluster, 3, JUNK_WRITER, 1)
      await cluster.restart(3)
      await muteForJunk(cluster, JUNK_WRITER)
      const paid = await cluster.participants[1]!.send(2, parseEther('0.1')) // receipted by the junk writer
      await epochTwoLanded(f, cluster, JUNK_WRITER)
      for (const i of [1, 2, 3]) assert.ok((cluster.participants[i]!.misbehaviour.get(JUNK_WRITER) ?? 0) >= MUTE_AFTER, `member ${i} muted the junk writer`)
      await until(() => paid.status === 'checkpointed', 'its payer sees the payment checkpointed')
    } finally {
      await cluster.stop()
    }
  })

  it('as the last member left to lead the epoch, its proposal read before the view change to it is held: every member signs, no challenge window', async () => {
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    // Member 2 reads the votes of members 1 and 2 against leader 3 (and what their logs hold after them) only once the
    // junk writer's log has brought its proposal of epoch 2: until then the junk writer's vote alone is no majority.
    const proposalFirst = (t: Transport): Transport => ({
      ...t,
      subscribe: (h) => {
        let held: Array<() => void> | undefined = []
        const holding = new Set<number>()
        return t.subscribe((author, position, bytes, pushed) => {
          if (!held) return h(author, position, bytes, pushed)
          const e = decodes(bytes) ? decodeEntry(bytes) : undefined
          if (author !== JUNK_WRITER && (holding.has(author) || (e?.type === 'view-change' && e.epoch === 2n && e.leader === 3))) {
            holding.add(author)
            return void held.push(() => void h(author, position, bytes, pushed))
          }
          const result = h(author, position, bytes, pushed)
          if (!pushed && author === JUNK_WRITER && e?.type === 'proposal' && e.checkpoint.epoch === 2n) {
            const release = held
            held = undefined
            for (const deliver of release) deliver()
          }
          return result
        })
      },
    })
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: { epochMs: 4000, leaderTimeoutMs: 1000, chainPollMs: 40 }, wrapTransport: { 2: proposalFirst } })
    try {
      await silenceSecondLeader(cluster) // view change from leader 1 to 2
      await cluster.restart(1)
      await replace(cluster, 2, 3, 1)
      await cluster.restart(2)
      await muteForJunk(cluster, JUNK_WRITER)
      await mutedBy(cluster, 2, JUNK_WRITER)
      await replace(cluster, 3, JUNK_WRITER, 1)
      await cluster.restart(3)
      const paid = await cluster.participants[1]!.send(3, parseEther('0.1')) // receipted by the junk writer
      await epochTwoLanded(f, cluster, JUNK_WRITER)
      // Skipped, member 2 would vote only once a majority's checkpoint went on chain, which lands after its window.
      const events = await f.channel.events()
      assert.ok(!events.some((e) => e.type === 'CheckpointProposed' && e.checkpoint.epoch === 2n), 'signed by every member: no challenge window')
      await until(() => paid.status === 'checkpointed', 'its payer sees the payment checkpointed')
    } finally {
      await cluster.stop()
    }
  })
})
