// One silent member cannot stop a channel (DESIGN.md section 4, the seed's B3): a checkpoint with the votes of a
// majority waits out a challenge window in which a member without a vote may challenge, then lands. Each rule as
// the attack it stops, on a real chain.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseEther } from 'ethers'
import type { Checkpoint } from '../../core/protocol/index.js'
import { assertRevert, openChannel, plainCheckpoint, txSummary, useDevnet } from './fixture.js'

const E = (n: string): bigint => parseEther(n)
const WINDOW = 600
const LEADER = 1
const SILENT = 0

/** Three members with 10 ether each, epoch 1 checkpointed; epoch 2 led by member 1, member 0 silent. */
async function silentMember(devnet: Parameters<typeof openChannel>[0]) {
  const f = await openChannel(devnet, { members: 3, params: { responseWindow: 300n, challengeWindow: BigInt(WINDOW) } })
  const cp1 = await f.checkpointDeposits()
  const prev = { balances: cp1.balances, deposited: cp1.deposited }
  return { f, cp1, prev }
}

describe('quorum checkpoint', () => {
  const devnet = useDevnet()

  it('a silent member: the majority\'s checkpoint waits out its window, then lands', async () => {
    const { f, cp1, prev } = await silentMember(devnet())
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2 })
    await assertRevert(f.as(LEADER).submitCheckpoint(cp2, f.sign(cp2, [1, 2])), 'BadSignature')
    const r = await f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [1, 2]))
    const proposed = r.events.find((e) => e.type === 'CheckpointProposed')
    assert.ok(proposed?.type === 'CheckpointProposed')
    assert.equal(proposed.unsignedMask, 1n << BigInt(SILENT))
    assert.deepEqual(proposed.checkpoint, cp2)
    await assertRevert(f.as(2).finalizeCheckpoint(cp2, prev), 'ChallengeWindowOpen')
    await assertRevert(f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [1, 2])), 'CheckpointPending')
    await devnet().increaseTime(WINDOW + 1)
    const other = { ...cp2, nextLeader: 0 }
    await assertRevert(f.as(2).finalizeCheckpoint(other, prev), 'NoPendingCheckpoint')
    await f.as(2).finalizeCheckpoint(cp2, prev)
    const status = await f.channel.status()
    assert.equal(status.checkpointedEpoch, 2n)
    assert.equal(status.leader, 2)
  })

  it('a minority cannot propose, nor a majority without the leader\'s own vote', async () => {
    const { f, cp1 } = await silentMember(devnet())
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2 })
    await assertRevert(f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [1])), 'NoQuorum')
    await assertRevert(f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [0, 2])), 'BadSignature')
    const forged = f.sign(cp2, [1, 2])
    forged[2] = f.sign(cp2, [0])[0]! // member 0's signature in member 2's slot
    await assertRevert(f.as(LEADER).proposeCheckpoint(cp2, forged), 'BadSignature')
  })

  it('a member that voted cannot challenge it; one without a vote can, only within the window', async () => {
    const { f, cp1 } = await silentMember(devnet())
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2 })
    await f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [1, 2]))
    await assertRevert(f.as(2).challenge(2n, LEADER, [], f.led(2n, LEADER, cp2)), 'NotAChallenger')
    await assertRevert(f.as(SILENT).challenge(2n, 2, [], f.led(2n, 2)), 'NotEpochLeader')
    await devnet().increaseTime(WINDOW + 1)
    await assertRevert(f.as(SILENT).challenge(2n, LEADER, [], f.led(2n, LEADER, cp2)), 'ChallengeWindowOver')
  })

  it('the silent member comes back and wins against a checkpoint that took its money: it is void, the leader banned', async () => {
    const { f, cp1, prev } = await silentMember(devnet())
    // The leader and member 2 agree to move 5 ether from the silent member to the leader with no transfer at all.
    const stolen: Checkpoint = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2, balances: [E('5'), E('15'), E('10')] })
    await f.as(LEADER).proposeCheckpoint(stolen, f.sign(stolen, [1, 2]))
    await f.as(SILENT).challenge(2n, LEADER, [], f.led(2n, LEADER, stolen))
    await f.as(LEADER).respond([])
    const r = await f.channel.resolve()
    const verdict = r.events.find((e) => e.type === 'DisputeResolved')
    assert.ok(verdict?.type === 'DisputeResolved')
    // Equal (empty) lists: the leader is right about the list, but its checkpoint contradicts it.
    assert.equal(verdict.leaderRight, true)
    await devnet().increaseTime(WINDOW + 1)
    const fin = await f.as(2).finalizeCheckpoint(stolen, prev)
    const banned = fin.events.find((e) => e.type === 'DisputeResolved')
    assert.ok(banned?.type === 'DisputeResolved' && !banned.leaderRight && banned.leader === LEADER)
    const status = await f.channel.status()
    assert.equal(status.checkpointedEpoch, 1n, 'nothing landed')
    assert.equal(status.leader, 2)
    assert.equal(await f.channel.bannedLeaders(), 1n << BigInt(LEADER))
  })

  it('the silent member challenges a right checkpoint and loses: it lands with the balance the leader\'s list gives', async () => {
    const { f, cp1, prev } = await silentMember(devnet())
    const tx = f.receipted({ epoch: 2n, from: SILENT, to: LEADER, amount: E('2'), leader: LEADER, seq: 0 })
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2, balances: [E('8'), E('12'), E('10')], ...txSummary([tx]) })
    await f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [1, 2]))
    await f.as(SILENT).challenge(2n, LEADER, [], f.led(2n, LEADER, cp2)) // hides its payment
    await f.as(LEADER).respond([tx])
    await f.channel.resolve()
    assert.equal((await f.channel.pending()).contested, 1n << BigInt(SILENT))
    await devnet().increaseTime(WINDOW + 1)
    const fin = await f.as(2).finalizeCheckpoint(cp2, prev)
    const landed = fin.events.find((e) => e.type === 'CheckpointSubmitted')
    assert.ok(landed?.type === 'CheckpointSubmitted')
    assert.deepEqual(landed.balances, [E('8'), E('12'), E('10')])
  })

  it('the silent member wins with a receipt the checkpoint left out: it is void and the epoch restarts', async () => {
    const { f, cp1 } = await silentMember(devnet())
    const tx = f.receipted({ epoch: 2n, from: LEADER, to: SILENT, amount: E('3'), leader: LEADER, seq: 0 })
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2 }) // the 3 ether left out
    await f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [1, 2]))
    await f.as(SILENT).challenge(2n, LEADER, [tx], f.led(2n, LEADER, cp2))
    await f.as(LEADER).respond([])
    const r = await f.channel.resolve()
    const verdict = r.events.find((e) => e.type === 'DisputeResolved')
    assert.ok(verdict?.type === 'DisputeResolved' && !verdict.leaderRight)
    assert.equal((await f.channel.pending()).deadline, 0n, 'the pending checkpoint is void')
    const restarted = plainCheckpoint(2n, cp1.deposited, { leader: 2, nextLeader: 0 })
    await f.as(2).submitCheckpoint(restarted, f.sign(restarted))
  })

  it('after a dispute the leader won, a silent member cannot freeze the epoch: the challenger counts, its balance pinned', async () => {
    const { f, cp1, prev } = await silentMember(devnet())
    const tx = f.receipted({ epoch: 2n, from: 2, to: LEADER, amount: E('2'), leader: LEADER, seq: 0 })
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2, balances: [E('10'), E('12'), E('8')], ...txSummary([tx]) })
    await f.as(2).challenge(2n, LEADER, [], f.led(2n, LEADER, cp2)) // member 2 hides its payment
    await f.as(LEADER).respond([tx])
    await f.channel.resolve()
    // Only the leader's vote: without the lost challenger counted there is no majority, and before this the contract
    // refused any majority checkpoint while the verdict stood (DisputePending), so the epoch waited for member 0.
    const r = await f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [LEADER]))
    const proposed = r.events.find((e) => e.type === 'CheckpointProposed')
    assert.ok(proposed?.type === 'CheckpointProposed')
    assert.equal(proposed.unsignedMask, 1n << BigInt(SILENT), 'the silent member may still challenge')
    assert.equal((await f.channel.pending()).contested, 1n << 2n)
    await assertRevert(f.as(2).challenge(2n, LEADER, [], f.led(2n, LEADER, cp2)), 'NotAChallenger')
    await devnet().increaseTime(WINDOW + 1)
    const fin = await f.as(SILENT).finalizeCheckpoint(cp2, prev)
    const landed = fin.events.find((e) => e.type === 'CheckpointSubmitted')
    assert.ok(landed?.type === 'CheckpointSubmitted')
    assert.deepEqual(landed.balances, [E('10'), E('12'), E('8')])
  })

  it('after a dispute the leader won, a majority checkpoint that moves the challenger\'s money otherwise bans the leader', async () => {
    const { f, cp1, prev } = await silentMember(devnet())
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2 })
    await f.as(2).challenge(2n, LEADER, [], f.led(2n, LEADER, cp2))
    await f.as(LEADER).respond([])
    await f.channel.resolve()
    const taken = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2, balances: [E('10'), E('13'), E('7')] })
    await f.as(LEADER).proposeCheckpoint(taken, f.sign(taken, [LEADER]))
    await devnet().increaseTime(WINDOW + 1)
    const fin = await f.as(SILENT).finalizeCheckpoint(taken, prev)
    const banned = fin.events.find((e) => e.type === 'DisputeResolved')
    assert.ok(banned?.type === 'DisputeResolved' && !banned.leaderRight && banned.leader === LEADER)
    assert.equal((await f.channel.status()).checkpointedEpoch, 1n, 'nothing landed')
  })

  it('after a dispute the leader won, the leader a majority moved to may put its own checkpoint on chain', async () => {
    const { f, cp1, prev } = await silentMember(devnet())
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2 })
    await f.as(2).challenge(2n, LEADER, [], f.led(2n, LEADER, cp2))
    await f.as(LEADER).respond([])
    await f.channel.resolve()
    // The won leader went silent; members 0 and 2 replaced it, and member 2's checkpoint has their votes.
    const other = plainCheckpoint(2n, cp1.deposited, { leader: 2, nextLeader: 0 })
    await assertRevert(f.as(2).proposeCheckpoint(other, f.sign(other, [2])), 'NoQuorum')
    const r = await f.as(2).proposeCheckpoint(other, f.sign(other, [0, 2]))
    const proposed = r.events.find((e) => e.type === 'CheckpointProposed')
    assert.ok(proposed?.type === 'CheckpointProposed')
    assert.equal(proposed.unsignedMask, 1n << BigInt(LEADER), 'the replaced leader may challenge it')
    assert.equal((await f.channel.pending()).contested, 0n)
    await devnet().increaseTime(WINDOW + 1)
    await f.as(0).finalizeCheckpoint(other, prev)
    assert.equal((await f.channel.status()).checkpointedEpoch, 2n)
  })

  it('every vote arriving late replaces the pending checkpoint at once', async () => {
    const { f, cp1 } = await silentMember(devnet())
    const cp2 = plainCheckpoint(2n, cp1.deposited, { leader: LEADER, nextLeader: 2 })
    await f.as(LEADER).proposeCheckpoint(cp2, f.sign(cp2, [1, 2]))
    await f.as(LEADER).submitCheckpoint(cp2, f.sign(cp2))
    assert.equal((await f.channel.status()).checkpointedEpoch, 2n)
    assert.equal((await f.channel.pending()).deadline, 0n)
  })

  it('a seat is not free: a join below the minimum deposit is refused', async () => {
    const f = await openChannel(devnet(), { members: 2, params: { minDeposit: E('1') } })
    const stranger = f.outsiders[0]!
    await assertRevert(f.channel.as(stranger).join(`0x${'ab'.repeat(32)}`, E('0.5')), 'InvalidAmount')
    await f.channel.as(stranger).join(`0x${'ab'.repeat(32)}`, E('1'))
  })
})
