// Dispute lists that travel in chunks, one transaction each: the verdict is the one the whole lists give, a
// challenger or leader that stops half way has the list it sent, and a member at the cap fits every transaction
// under the per-transaction gas cap.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Contract, type ContractTransactionResponse } from 'ethers'
import { hashTransfer, signDigest, type ReceiptedTransfer } from '../../core/protocol/index.js'
import { CHANNEL_LIMITS } from '../../core/chain/channel-limits.js'
import { channelInterface, toChainError, type ChannelEvent } from '../../core/chain/index.js'
import { assertRevert, openChannel, useDevnet, type ChannelFixture } from './fixture.js'

const WINDOW = 3600n
const CHALLENGER = 0
const LEADER = 1
/** EIP-7825: no transaction may use more gas. */
const TX_GAS_CAP = 16_777_216n

/** Two members, epoch 1 led by member 1, `n` receipted transfers alternating between them; lists sent `chunk` at a time. */
async function busyEpoch(devnet: Parameters<typeof openChannel>[0], n: number, chunk: number, txCap = 256) {
  const f = await openChannel(devnet, { members: 2, params: { responseWindow: WINDOW, txCap } })
  f.channel.listChunk = chunk
  const list = Array.from({ length: n }, (_, seq) =>
    f.receipted({ epoch: 1n, from: seq % 2, to: 1 - (seq % 2), amount: BigInt(seq + 1), leader: LEADER, seq }),
  )
  return { f, list }
}

async function verdict(f: ChannelFixture): Promise<boolean> {
  const r = await f.channel.resolve()
  const ev = r.events.find((e) => e.type === 'DisputeResolved')
  assert.ok(ev && ev.type === 'DisputeResolved')
  return ev.leaderRight
}

type Send = (...args: unknown[]) => Promise<ContractTransactionResponse>

/** The contract itself as member i sees it: single calls the client would chunk or resume. */
function raw(f: ChannelFixture, i: number): { challenge: Send; challengeMore: Send; respond: Send; challengerList: () => Promise<string[]> } {
  const c = new Contract(f.channel.address, channelInterface, f.member(i).wallet)
  const fn = (name: string): Send => (...args) => c.getFunction(name)(...args) as Promise<ContractTransactionResponse>
  return {
    challenge: fn('challenge'),
    challengeMore: fn('challengeMore'),
    respond: fn('respond'),
    challengerList: async () => [...((await c.getFunction('challengerList').staticCall()) as string[])],
  }
}

async function send(tx: Promise<ContractTransactionResponse>): Promise<void> {
  try {
    await (await tx).wait()
  } catch (err) {
    throw toChainError(err, channelInterface)
  }
}

const txsArg = (txs: readonly ReceiptedTransfer[]) => txs.map((t) => ({ ...t, transfer: { ...t.transfer } }))

const ofType = <T extends ChannelEvent['type']>(events: ChannelEvent[], type: T) =>
  events.filter((e): e is Extract<ChannelEvent, { type: T }> => e.type === type)

describe('dispute lists in chunks', () => {
  const devnet = useDevnet()

  it('a list in chunks is judged as a whole: equal lists, the leader is right; its answer reads back from every chunk', async () => {
    const { f, list } = await busyEpoch(devnet(), 5, 2)
    const c = await f.as(CHALLENGER).challenge(1n, LEADER, list, f.led(1n, LEADER))
    assert.equal(c.parts.length, 3)
    const [opened] = ofType(c.events, 'Challenged')
    assert.ok(opened)
    assert.deepEqual([opened.count, opened.listed], [5, 2])
    assert.deepEqual(ofType(c.events, 'ChallengeListed').map((e) => e.listed), [4, 5])
    assert.equal((await raw(f, CHALLENGER).challengerList()).length, 5)

    const r = await f.as(LEADER).respond(list)
    assert.equal(r.parts.length, 3)
    const answered = ofType(r.events, 'Answered')
    assert.deepEqual(answered.map((e) => e.listed), [2, 4, 5])
    assert.deepEqual(ofType(r.events, 'Responded').map((e) => [e.count, e.leaderRight]), [[5, true]])
    const read = await f.channel.answerOf(answered.map((e) => e.transactionHash))
    assert.deepEqual(read, list)
    assert.equal(await verdict(f), true)
    assert.equal((await f.channel.status()).disputePhase, 'leader-won')
    // What the leader's list moves, summed over its chunks: member 0 received 2 + 4, paid 1 + 3 + 5.
    assert.equal((await f.channel.dispute()).challengerNet, 2n + 4n - 1n - 3n - 5n)
  })

  it('a leader that drops the challenger\'s incoming payment in a later chunk loses', async () => {
    const { f, list } = await busyEpoch(devnet(), 6, 2)
    await f.as(CHALLENGER).challenge(1n, LEADER, list, f.led(1n, LEADER))
    const dropped = list.filter((_, i) => i !== 3) // seq 3: member 1 paid member 0
    await f.as(LEADER).respond(dropped)
    assert.equal(await verdict(f), false)
  })

  it('a transfer listed twice in different chunks is a bad entry (the leader re-receipts a payment the challenger made)', async () => {
    const { f, list } = await busyEpoch(devnet(), 4, 2)
    await f.as(CHALLENGER).challenge(1n, LEADER, list, f.led(1n, LEADER))
    // The challenger's payment of seq 0 again in the second chunk, receipted anew at seq 9, in place of seq 3 (the
    // leader's payment to the challenger): the lists have the same length.
    const receipt = f.digests.receipt({ transfer: hashTransfer(list[0]!.transfer), epoch: 1n, seq: 9 })
    const again: ReceiptedTransfer = { ...list[0]!, seq: 9, leaderSig: signDigest(f.member(LEADER).key, receipt) }
    await f.as(LEADER).respond([list[0]!, list[1]!, list[2]!, again])
    assert.equal(await verdict(f), false)
  })

  it('the leader answers only a complete list; a challenger that stops half way has the list it sent by its deadline', async () => {
    const { f, list } = await busyEpoch(devnet(), 6, 2)
    // The first chunk only, as a challenger whose node stopped after it.
    const led = f.led(1n, LEADER)
    await send(raw(f, CHALLENGER).challenge(1n, LEADER, txsArg(list.slice(0, 2)), { ...led.checkpoint }, led.sig, 6))
    await assertRevert(f.as(LEADER).respond(list), 'ListIncomplete')
    await devnet().increaseTime(Number(WINDOW) + 1)
    await assertRevert(send(raw(f, CHALLENGER).challengeMore(txsArg(list.slice(2, 4)))), 'ListWindowOver')
    // Its time up, the list is the two entries it sent; the leader's longer list with the same start is right.
    const r = await f.as(LEADER).respond(list)
    assert.deepEqual(ofType(r.events, 'Responded').map((e) => [e.count, e.leaderRight]), [[6, true]])
    assert.equal(await verdict(f), true)
  })

  it('a leader that stops half way through its answer loses', async () => {
    const { f, list } = await busyEpoch(devnet(), 6, 2)
    await f.as(CHALLENGER).challenge(1n, LEADER, list, f.led(1n, LEADER))
    await send(raw(f, LEADER).respond(txsArg(list.slice(0, 2)), 6))
    await assertRevert(f.channel.resolve(), 'ResponseWindowOpen')
    await devnet().increaseTime(Number(WINDOW) + 1)
    assert.equal(await verdict(f), false)
  })

  it('an answer sent again (a restarted leader) goes on from where the contract\'s record of it stops', async () => {
    const { f, list } = await busyEpoch(devnet(), 6, 2)
    await f.as(CHALLENGER).challenge(1n, LEADER, list, f.led(1n, LEADER))
    await send(raw(f, LEADER).respond(txsArg(list.slice(0, 2)), 6))
    const r = await f.as(LEADER).respond(list)
    assert.deepEqual(ofType(r.events, 'Answered').map((e) => e.listed), [4, 6])
    assert.equal(await verdict(f), true)
    assert.equal((await f.channel.dispute()).challengerNet, 2n + 4n + 6n - 1n - 3n - 5n)
  })

  it('a list sent again (a failed chunk, a retry) goes on from where the contract\'s record of it stops', async () => {
    const { f, list } = await busyEpoch(devnet(), 6, 2)
    const led = f.led(1n, LEADER)
    await send(raw(f, CHALLENGER).challenge(1n, LEADER, txsArg(list.slice(0, 2)), { ...led.checkpoint }, led.sig, 6))
    const c = await f.as(CHALLENGER).challenge(1n, LEADER, list, led)
    assert.deepEqual(ofType(c.events, 'ChallengeListed').map((e) => e.listed), [4, 6])
    assert.equal((await raw(f, CHALLENGER).challengerList()).length, 6)
    await f.as(LEADER).respond(list)
    assert.equal(await verdict(f), true)
  })

  it('refuses chunks from anyone but the challenger, past the declared length, or after the list is complete', async () => {
    const { f, list } = await busyEpoch(devnet(), 4, 2)
    const led = f.led(1n, LEADER)
    await assertRevert(send(raw(f, CHALLENGER).challenge(1n, LEADER, txsArg(list), { ...led.checkpoint }, led.sig, 3)), 'ListTooLong')
    await assertRevert(send(raw(f, CHALLENGER).challenge(1n, LEADER, txsArg(list), { ...led.checkpoint }, led.sig, 257)), 'ListTooLong')
    await send(raw(f, CHALLENGER).challenge(1n, LEADER, txsArg(list.slice(0, 2)), { ...led.checkpoint }, led.sig, 4))
    await assertRevert(send(raw(f, LEADER).challengeMore(txsArg(list.slice(2)))), 'NotChallenger')
    await assertRevert(send(raw(f, CHALLENGER).challengeMore(txsArg(list))), 'ListTooLong')
    await send(raw(f, CHALLENGER).challengeMore(txsArg(list.slice(2))))
    await assertRevert(send(raw(f, CHALLENGER).challengeMore([])), 'ListComplete')
    await send(raw(f, LEADER).respond(txsArg(list.slice(0, 2)), 4))
    await assertRevert(send(raw(f, LEADER).respond(txsArg(list.slice(2)), 5)), 'LengthMismatch')
    await assertRevert(send(raw(f, LEADER).respond(txsArg(list), 4)), 'ListTooLong')
  })

  it('a member at the cap: its challenge and its leader\'s answer each fit every transaction under the gas cap', async () => {
    const cap = CHANNEL_LIMITS.maxTxCap
    const { f, list } = await busyEpoch(devnet(), cap, 128, cap)
    const c = await f.as(CHALLENGER).challenge(1n, LEADER, list, f.led(1n, LEADER))
    const r = await f.as(LEADER).respond(list)
    const largest = [...c.parts, ...r.parts].reduce((max, p) => (p.gasUsed > max ? p.gasUsed : max), 0n)
    assert.ok(largest < TX_GAS_CAP, `largest transaction ${largest} gas`)
    assert.equal(await verdict(f), true)
  })
})
