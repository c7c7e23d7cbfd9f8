// Members that cheat or err: a false challenge, replays from an older epoch and another channel, a double spend
// and garbage in a log. Each is refused or loses; the channel carries on with correct balances.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Wallet, parseEther, randomBytes } from 'ethers'
import { openChannel, useDevnet, type ChannelFixture } from '../../contracts/test/fixture.js'
import type { Devnet } from '../chain/index.js'
import { ChannelDigests, encodeEntry, randomTransferId, signDigest } from '../protocol/index.js'
import type { Hex } from '../protocol/types.js'
import type { Byzantine } from '../testing/byzantine.js'
import { recount } from '../testing/recount.js'
import { startCluster, type Cluster } from '../testing/cluster.js'
import { TransferRejected } from './participant.js'

const TIMING = { epochMs: 1200, leaderTimeoutMs: 1500, chainPollMs: 40 }

async function inEpoch2(devnet: Devnet, byzantine: Record<number, Byzantine> = {}, challengeWindow?: bigint) {
  const params = { responseWindow: 30n, ...(challengeWindow ? { challengeWindow } : {}) }
  const f = await openChannel(devnet, { members: 4, deposit: parseEther('1'), params })
  const keys = f.members.map((m) => m.wallet.privateKey as Hex)
  const cluster = await startCluster(f.channel, devnet, keys, { timing: TIMING, byzantine })
  await cluster.untilCheckpoint(1n)
  while (cluster.participants.some((p) => p.runningEpoch < 2n)) await new Promise((r) => setTimeout(r, 20))
  return { f, cluster }
}


async function checkpointOf(f: ChannelFixture, cluster: Cluster, epoch: bigint) {
  await cluster.untilCheckpoint(epoch, 30_000)
  const cp = (await f.channel.events()).find((e) => e.type === 'CheckpointSubmitted' && e.epoch === epoch)
  assert.ok(cp && cp.type === 'CheckpointSubmitted')
  return cp
}

describe('Byzantine member', () => {
  const devnet = useDevnet()

  it('challenges falsely (hides its own payment): the leader wins and its checkpoint lands without that vote', async () => {
    const { f, cluster } = await inEpoch2(devnet(), { 3: { falseChallenge: true } })
    try {
      const sent = await Promise.all([
        cluster.participants[3]!.send(0, 5000n),
        cluster.participants[0]!.send(3, 1000n),
        cluster.participants[2]!.send(1, 700n),
      ])
      const cp = await checkpointOf(f, cluster, 2n)
      const verdict = (await f.channel.events()).find((e) => e.type === 'DisputeResolved')
      assert.ok(verdict && verdict.type === 'DisputeResolved')
      assert.equal(verdict.challenger, 3)
      assert.equal(verdict.leaderRight, true)
      assert.equal(cp.leader, 1, 'the challenged leader\'s own checkpoint')
      assert.deepEqual(cp.balances, recount(f, sent, parseEther('1')), 'the challenger pays what it hid')
    } finally {
      await cluster.stop()
    }
  })

  it('replays a transfer from an older epoch and one signed for another channel: neither counts', async () => {
    const { f, cluster } = await inEpoch2(devnet())
    try {
      const paid = await cluster.participants[0]!.send(2, 4000n)
      await checkpointOf(f, cluster, 2n)
      // Member 2 (the receiver) writes the epoch-2 transfer again in epoch 3, countersigned as before.
      const old = paid.transfer
      const domain = new ChannelDigests(await f.channel.domain())
      const d = domain.transfer(old)
      const replay = { type: 'countersign' as const, transfer: old, senderSig: signDigest(f.member(0).key, d), receiverSig: signDigest(f.member(2).key, d) }
      // And a transfer of epoch 3 signed under another channel's domain.
      const foreign = new ChannelDigests({ chainId: 31337n, verifyingContract: Wallet.createRandom().address })
      const t3 = { id: randomTransferId(), epoch: 3n, from: f.member(0).address, to: f.member(2).address, amount: 4000n }
      const fd = foreign.transfer(t3)
      const alien = { type: 'countersign' as const, transfer: t3, senderSig: signDigest(f.member(0).key, fd), receiverSig: signDigest(f.member(2).key, fd) }
      await cluster.bus.connect(2).append([encodeEntry(replay), encodeEntry(alien)])
      const fresh = await cluster.participants[1]!.send(3, 10n)
      const cp3 = await checkpointOf(f, cluster, 3n)
      assert.equal(cp3.txCount, 1, 'only the honest transfer of epoch 3')
      assert.deepEqual(cp3.balances, recount(f, [paid, fresh], parseEther('1')))
    } finally {
      await cluster.stop()
    }
  })

  it('double-spends to two receivers at once: exactly one is receipted, the other refused as an overdraft', async () => {
    const { f, cluster } = await inEpoch2(devnet())
    try {
      const spender = cluster.participants[0]!
      const results = await Promise.allSettled([spender.send(1, parseEther('0.6')), spender.send(2, parseEther('0.6'))])
      const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))
      assert.equal(ok.length, 1)
      assert.equal(refused.length, 1)
      assert.ok(refused[0] instanceof TransferRejected && refused[0].code === 'OVERDRAFT')
      const cp = await checkpointOf(f, cluster, 2n)
      assert.deepEqual(cp.balances, recount(f, ok, parseEther('1')))
    } finally {
      await cluster.stop()
    }
  })

  it('writes garbage into its log: counted against it (then passed over), nobody crashes, the epoch lands', async () => {
    // Muted for the epoch, its vote is not heard either: the epoch lands with the majority's after a short window.
    const { f, cluster } = await inEpoch2(devnet(), {}, 2n)
    try {
      await cluster.bus.connect(3).append(Array.from({ length: 50 }, (_, i) => randomBytes(1 + i * 7)))
      const paid = await cluster.participants[0]!.send(1, 123n)
      const cp = await checkpointOf(f, cluster, 2n)
      assert.deepEqual(cp.balances, recount(f, [paid], parseEther('1')))
      for (const p of cluster.participants) assert.ok((p.misbehaviour.get(3) ?? 0) >= 50, `member ${p.index} counted the garbage`)
    } finally {
      await cluster.stop()
    }
  })
})
