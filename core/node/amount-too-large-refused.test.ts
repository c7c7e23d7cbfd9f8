// An amount too big crashed the core (issue 12, item 5): the API let 78 digits through, the participant recorded
// a payment of 2^256 wei it could never sign, re-sent it every epoch and an unhandled rejection ended the process.
// Now the API refuses any amount above what the contract can hold for a member (2^88 - 1 wei) with
// AMOUNT_TOO_LARGE, ChannelNode refuses it again below the API, nothing is recorded, and the channel keeps going.
// Two app cores on a real chain and a local DHT, called through the real NodeApi dispatcher.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseEther } from 'ethers'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import { useDevnet } from '../../contracts/test/fixture.js'
import { CHANNEL_LIMITS } from '../chain/index.js'
import { MAX_AMOUNT_WEI } from './amount-limit.js'
import { dispatch } from './api-dispatch.js'
import { AppCore } from './app-core.js'
import { validateCall, type ChannelView } from './node-api.js'
import { appCoreOnDevnet } from '../testing/app-core-on-devnet.js'

const TIMING = { epochMs: 800, leaderTimeoutMs: 8000, chainPollMs: 100 }

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await read().catch(() => undefined)
    if (v !== undefined && ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('an amount too large for the contract', () => {
  const devnet = useDevnet({ accounts: 3 })
  const dir = mkdtempSync(join(tmpdir(), 'amount-bound-'))
  let testnet: Testnet
  let alice: AppCore
  let bob: AppCore
  let channel: string
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)

  before(async () => {
    process.on('unhandledRejection', onUnhandled)
    testnet = await createTestnet(3, { host: '127.0.0.1' })
    const d = devnet()
    const core = (name: string, key: string): Promise<AppCore> => appCoreOnDevnet({ dir, name, key, devnet: d, testnet, timing: TIMING })
    alice = await core('alice', d.keys[1]!)
    bob = await core('bob', d.keys[2]!)
    const created = await alice.createChannel({ depositWei: parseEther('1').toString() })
    channel = created.address
    await bob.joinChannel({ invite: created.invite, depositWei: parseEther('1').toString() })
    // Both members counted by a checkpoint: the channel runs, and a payment to member 1 could go out.
    const both = (v: ChannelView): boolean => v.members.length === 2 && v.members.every((m) => m.balanceWei === parseEther('1').toString())
    await until('a checkpoint covering both deposits', () => alice.channel(channel), both)
  })
  after(async () => {
    await bob?.close()
    await alice?.close()
    await testnet?.destroy()
    process.off('unhandledRejection', onUnhandled)
    rmSync(dir, { recursive: true, force: true })
  })

  it('the contract\'s bound is the one the app enforces', () => {
    assert.equal(MAX_AMOUNT_WEI, CHANNEL_LIMITS.maxMinDeposit) // both: a member's deposit is a uint88 on chain
    assert.doesNotThrow(() => validateCall('send', [channel, 1, MAX_AMOUNT_WEI.toString()]))
  })

  it('2^256 and 2^88 are refused with AMOUNT_TOO_LARGE at the API and below it; nothing changes', async () => {
    const before = await alice.channel(channel)
    const tooLarge = [2n ** 256n, MAX_AMOUNT_WEI + 1n, 10n ** 77n]
    for (const amount of tooLarge) {
      for (const method of ['send', 'deposit'] as const) {
        const args = method === 'send' ? [channel, 1, amount.toString()] : [channel, amount.toString()]
        const reply = await dispatch(alice, method, args)
        assert.equal(reply.ok, false, `${method} ${amount} was accepted`)
        if (!reply.ok) {
          assert.equal(reply.error.code, 'AMOUNT_TOO_LARGE', reply.error.message)
          assert.match(reply.error.message, /at most 309485009821345068724781055 wei/)
        }
      }
      const join = await dispatch(alice, 'joinChannel', [{ invite: before.invite, depositWei: amount.toString() }])
      assert.equal(!join.ok && join.error.code, 'AMOUNT_TOO_LARGE')
      // Past the schema (a caller inside the core): ChannelNode refuses before the participant records anything.
      await assert.rejects(alice.send(channel, 1, amount.toString()), (err: unknown) => (err as { code?: string }).code === 'AMOUNT_TOO_LARGE')
      await assert.rejects(alice.deposit(channel, amount.toString()), (err: unknown) => (err as { code?: string }).code === 'AMOUNT_TOO_LARGE')
    }
    for (const bad of ['0', '-1', '1e30', ' 1', '0x10']) {
      const reply = await dispatch(alice, 'send', [channel, 1, bad])
      assert.equal(!reply.ok && reply.error.code, 'BAD_AMOUNT', bad)
    }

    // Four epochs later (the old crash came with the fourth re-send): still running, nothing recorded.
    const epoch = BigInt(before.epoch)
    const later = await until('four more epochs', () => alice.channel(channel), (v) => BigInt(v.epoch) >= epoch + 4n)
    assert.deepEqual(later.transfers, [], 'a refused amount was recorded')
    const balances = (v: ChannelView): string[] => v.members.map((m) => m.balanceWei)
    assert.deepEqual(balances(later), balances(before))
    assert.deepEqual(balances(later), [parseEther('1').toString(), parseEther('1').toString()])
    assert.deepEqual(unhandled, [], 'an unhandled rejection happened')

    // And a payment of a sane amount still goes through.
    const reply = await dispatch(alice, 'send', [channel, 1, '1000'])
    assert.equal(reply.ok, true, JSON.stringify(reply))
    const paid = await until('the payment in the history', () => alice.channel(channel), (v) => v.transfers.some((t) => t.amountWei === '1000' && t.status !== 'rejected'))
    assert.equal(paid.transfers.length, 1)
  })
})

describe('an unexpected rejection in a serving process', () => {
  it('is logged (its message, no stack) and the process keeps serving', () => {
    const helper = fileURLToPath(new URL('../util/unhandled-rejections.ts', import.meta.url))
    const script = [
      `const { logUnhandledRejections } = await import(${JSON.stringify(helper)})`,
      `logUnhandledRejections((line) => console.log(line))`,
      `Promise.reject(new Error('boom in a forgotten promise'))`,
      `setTimeout(() => console.log('still serving'), 200)`,
    ].join('\n')
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout, 'unexpected error, kept running: boom in a forgotten promise\nstill serving\n')
  })
})
