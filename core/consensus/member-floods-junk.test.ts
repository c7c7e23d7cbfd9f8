// A member floods its log with junk, or copies another member's transfer id, on a real chain. Junk costs the others
// no log write and, after a few entries, no decoding or signature work; a copied id cannot fake the refusal of
// someone else's payment (a sender who believed it would pay again).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther, randomBytes } from 'ethers'
import { openChannel, useDevnet } from '../../contracts/test/fixture.js'
import { ChannelDigests, decodeEntry, encodeEntry, randomTransferId, signDigest } from '../protocol/index.js'
import type { Hex } from '../protocol/types.js'
import { startCluster } from '../testing/cluster.js'
import type { Transport } from './transport.js'
import { MUTE_AFTER } from './misbehaviour.js'

const TIMING = { epochMs: 1500, leaderTimeoutMs: 2000, chainPollMs: 40 }
const LEADER = 1 // leads epoch 2
const FLOODER = 3
const FAKES = 2000

const hex = (n: number): Hex => `0x${Buffer.from(randomBytes(n)).toString('hex')}`

describe('member floods junk', () => {
  const devnet = useDevnet()

  it('fake countersigns: no refusal written in answer, the author muted for the epoch, honest payments go on', async () => {
    // A muted member's vote is not heard either: the epoch lands with the majority's votes after a short window.
    const f = await openChannel(devnet(), { members: 4, deposit: parseEther('1'), params: { challengeWindow: 2n } })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: TIMING })
    try {
      await cluster.untilCheckpoint(1n)
      while (cluster.participants.some((p) => p.runningEpoch < 2n)) await new Promise((r) => setTimeout(r, 20))
      const leaderLogBefore = cluster.bus.length(LEADER)
      // Countersigns of member 0 paying the flooder, made with no signing at all.
      const fakes = Array.from({ length: FAKES }, () =>
        encodeEntry({
          type: 'countersign',
          transfer: { id: randomTransferId(), epoch: 2n, from: f.member(0).address, to: f.member(FLOODER).address, amount: 1n },
          senderSig: hex(65),
          receiverSig: hex(65),
        }),
      )
      await cluster.bus.connect(FLOODER).append(fakes)
      const paid = await Promise.all([cluster.participants[0]!.send(2, 1000n), cluster.participants[2]!.send(LEADER, 500n)])
      assert.deepEqual(paid.map((r) => r.status), ['receipted', 'receipted'])
      await cluster.untilCheckpoint(2n)

      const leaderEntries = Array.from({ length: cluster.bus.length(LEADER) - leaderLogBefore }, (_, i) =>
        decodeEntry(cluster.bus.entry(LEADER, leaderLogBefore + i)),
      )
      assert.equal(leaderEntries.filter((e) => e.type === 'reject').length, 0, 'junk is answered with nothing')
      const leader = cluster.participants[LEADER]!
      assert.ok((leader.misbehaviour.get(FLOODER) ?? 0) >= FAKES, 'every fake counted against its author')
      // Muted after MUTE_AFTER bad entries: the rest were passed over without decoding or signature checks.
      assert.ok((leader.skipped.get(FLOODER) ?? 0) >= FAKES - MUTE_AFTER, `skipped ${leader.skipped.get(FLOODER)}`)
      for (const i of [0, 2]) assert.equal(leader.misbehaviour.get(i) ?? 0, 0, `honest member ${i} not blamed`)
    } finally {
      await cluster.stop()
    }
  })

  it('a copied transfer id: the refusal of the copy is not taken as the refusal of the original', async () => {
    const f = await openChannel(devnet(), { members: 3, deposit: parseEther('1') })
    const keys = f.members.map((m) => m.wallet.privateKey as Hex)
    const digests = new ChannelDigests(await f.channel.domain())
    const copier = 2 // the receiver of member 0's payment
    const copied = new Set<string>()
    // The copier, on seeing member 0's request, writes its own request to the leader under the same id, for more
    // than it holds: the leader rightly refuses it as an overdraft, and a refusal by the leader is one member 0 heeds.
    const copying = (t: Transport): Transport => ({
      append: (entries) => t.append(entries),
      subscribe: (h) =>
        t.subscribe((author, position, bytes) => {
          h(author, position, bytes)
          const e = decodeEntry(bytes)
          if (author !== 0 || e.type !== 'request' || copied.has(e.transfer.id)) return
          copied.add(e.transfer.id)
          const transfer = { ...e.transfer, from: f.member(copier).address, to: f.member(LEADER).address, amount: parseEther('5') }
          void t.append([encodeEntry({ type: 'request', transfer, senderSig: signDigest(f.member(copier).key, digests.transfer(transfer)) })])
        }),
    })
    const cluster = await startCluster(f.channel, devnet(), keys, { timing: TIMING, wrapTransport: { [copier]: copying } })
    try {
      await cluster.untilCheckpoint(1n)
      while (cluster.participants.some((p) => p.runningEpoch < 2n)) await new Promise((r) => setTimeout(r, 20))
      const record = await cluster.participants[0]!.send(copier, 700n)
      assert.ok(copied.has(record.transfer.id), 'the id was copied')
      assert.equal(record.status, 'receipted')
      await cluster.untilCheckpoint(2n)
      const status = (): string | undefined => cluster.participants[0]!.transfers().find((t) => t.transfer.id === record.transfer.id)?.status
      for (const until = Date.now() + 5000; status() !== 'checkpointed' && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50))
      assert.equal(status(), 'checkpointed', 'the original payment stands, not refused as an overdraft')
    } finally {
      await cluster.stop()
    }
  })
})
