// The constructor bounds every parameter (issue 11, hole 9): a creator cannot deploy a channel that holds deposits
// for ever (staleAfter = 2^64-1 overflowed the close check), lets a dispute hold the channel for ever, or allows
// more transfers per epoch than a dispute can carry. Each parameter just outside its range is refused with its
// name; its edges are accepted.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Contract, Wallet, parseEther } from 'ethers'
import { CHANNEL_LIMITS, ChainError, ChannelClient, type ChannelParams } from '../../core/chain/index.js'
import { abi } from '../../core/chain/generated/Channel.js'
import { randomPeerKey, useDevnet } from './fixture.js'

const L = CHANNEL_LIMITS
const DAY = 86_400n
/** Every parameter given, each well inside its range. */
const OK: Required<ChannelParams> = {
  responseWindow: 300n,
  challengeWindow: 300n,
  staleAfter: 7n * DAY,
  txCap: 256,
  minDeposit: 1n,
  invited: [],
}

describe('constructor bounds', () => {
  const devnet = useDevnet({ accounts: 3 })
  const creator = (): Wallet => new Wallet(devnet().keys[0]!, devnet().provider)

  async function refused(params: Partial<ChannelParams>, param: string, min: bigint, max: bigint, got: bigint): Promise<void> {
    await assert.rejects(ChannelClient.deploy(creator(), { ...OK, ...params }), (err: unknown) => {
      assert.ok(err instanceof ChainError, `expected a ChainError, got ${String(err)}`)
      assert.equal(err.code, 'ParamOutOfRange', err.message)
      assert.deepEqual(err.args, [param, min, max, got])
      assert.equal(err.message, `the channel setting ${param} is ${got}; it must be between ${min} and ${max}`)
      return true
    })
  }

  it('the app knows the contract\'s own bounds', async () => {
    const c = new Contract((await ChannelClient.deploy(creator(), OK)).address, abi, devnet().provider)
    const read = async (name: string): Promise<bigint> => (await c.getFunction(name).staticCall()) as bigint
    assert.equal(await read('MIN_RESPONSE_WINDOW'), L.minResponseWindow)
    assert.equal(await read('MAX_RESPONSE_WINDOW'), L.maxResponseWindow)
    assert.equal(await read('MIN_CHALLENGE_WINDOW'), L.minChallengeWindow)
    assert.equal(await read('MAX_CHALLENGE_WINDOW'), L.maxChallengeWindow)
    assert.equal(await read('MIN_STALE_AFTER'), L.minStaleAfter)
    assert.equal(await read('MAX_STALE_AFTER'), L.maxStaleAfter)
    assert.equal(await read('MAX_TX_CAP'), BigInt(L.maxTxCap))
    assert.equal(await read('MAX_MEMBERS'), BigInt(L.maxMembers))
  })

  it('a stale-close delay of 2^64-1 s (deposits held for ever) is refused, and anything over a year', async () => {
    await refused({ staleAfter: 2n ** 64n - 1n }, 'staleAfter', L.minStaleAfter, L.maxStaleAfter, 2n ** 64n - 1n)
    await refused({ staleAfter: L.maxStaleAfter + 1n }, 'staleAfter', L.minStaleAfter, L.maxStaleAfter, L.maxStaleAfter + 1n)
  })

  it('a stale-close delay under an hour, or not longer than a challenge window and two response windows, is refused', async () => {
    await refused({ staleAfter: L.minStaleAfter - 1n }, 'staleAfter', L.minStaleAfter, L.maxStaleAfter, L.minStaleAfter - 1n)
    const windows = { responseWindow: DAY, challengeWindow: 2n * DAY }
    // A majority's checkpoint challenged at the end of its window; the list in chunks, then the answer.
    await refused({ ...windows, staleAfter: 4n * DAY }, 'staleAfter', 4n * DAY + 1n, L.maxStaleAfter, 4n * DAY)
    await refused({ staleAfter: 0n }, 'staleAfter', L.minStaleAfter, L.maxStaleAfter, 0n)
  })

  it('a response window of 0, under 30 s or over a week is refused', async () => {
    for (const got of [0n, L.minResponseWindow - 1n, L.maxResponseWindow + 1n, 2n ** 64n - 1n]) {
      await refused({ responseWindow: got }, 'responseWindow', L.minResponseWindow, L.maxResponseWindow, got)
    }
  })

  it('a challenge window of 0, under 2 s or over a week is refused', async () => {
    for (const got of [0n, L.minChallengeWindow - 1n, L.maxChallengeWindow + 1n]) {
      await refused({ challengeWindow: got }, 'challengeWindow', L.minChallengeWindow, L.maxChallengeWindow, got)
    }
  })

  it('a per-epoch transfer cap of 0 or more than a dispute can carry (the app\'s old 10,000) is refused', async () => {
    for (const got of [0, L.maxTxCap + 1, 10_000, 2 ** 32 - 1]) await refused({ txCap: got }, 'txCap', 1n, BigInt(L.maxTxCap), BigInt(got))
  })

  it('a minimum deposit of 0, or more than a join can bring, is refused', async () => {
    for (const got of [0n, L.maxMinDeposit + 1n]) await refused({ minDeposit: got }, 'minDeposit', 1n, L.maxMinDeposit, got)
  })

  it('more invitations than members a channel can hold are refused', async () => {
    const many = Array.from({ length: L.maxMembers + 1 }, () => Wallet.createRandom().address)
    await refused({ invited: many }, 'invited', 0n, BigInt(L.maxMembers), BigInt(many.length))
  })

  it('accepts every parameter at its lower edge', async () => {
    const low = { responseWindow: L.minResponseWindow, challengeWindow: L.minChallengeWindow, staleAfter: L.minStaleAfter, txCap: 1, minDeposit: 1n, invited: [] }
    const params = await (await ChannelClient.deploy(creator(), low)).params()
    assert.deepEqual(params, { responseWindow: low.responseWindow, staleAfter: low.staleAfter, txCap: 1, challengeWindow: low.challengeWindow, minDeposit: 1n })
    // Both windows at a day: the stale-close delay's least is a challenge window and two response windows, plus one second.
    await ChannelClient.deploy(creator(), { ...OK, responseWindow: DAY, challengeWindow: DAY, staleAfter: 3n * DAY + 1n })
  })

  it('accepts every parameter at its upper edge, and a year-long stale-close delay still pays everyone out', async () => {
    const invited = [creator().address, ...Array.from({ length: L.maxMembers - 1 }, () => Wallet.createRandom().address)]
    const high = { responseWindow: L.maxResponseWindow, challengeWindow: L.maxChallengeWindow, staleAfter: L.maxStaleAfter, txCap: L.maxTxCap, minDeposit: L.maxMinDeposit, invited }
    const top = await ChannelClient.deploy(creator(), high)
    assert.equal((await top.params()).staleAfter, L.maxStaleAfter)
    const c = new Contract(top.address, abi, devnet().provider)
    assert.equal(await c.getFunction('invited').staticCall(invited[L.maxMembers - 1]!), true)

    // The longest delay a channel may have ends, and the deposit comes back.
    const channel = await ChannelClient.deploy(creator(), { ...OK, staleAfter: L.maxStaleAfter })
    const member = new Wallet(devnet().keys[1]!, devnet().provider)
    await channel.as(member).join(randomPeerKey(), parseEther('1'))
    await devnet().increaseTime(Number(L.maxStaleAfter))
    await channel.as(member).close({ balances: [], deposited: [] })
    await channel.as(member).withdraw()
    assert.equal(await devnet().provider.getBalance(channel.address), 0n)
  })
})
