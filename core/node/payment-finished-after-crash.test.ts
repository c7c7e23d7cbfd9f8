// A payment whose confirmation died with the app (issue 11, hole 11): Alice's app (`node --ui`, its own process,
// driven through its NodeApi WebSocket) pays Bob, is killed with SIGKILL as soon as the payment is receipted and
// before any checkpoint covers it, and is started again from its data directory. The payment completes on its own
// after the restart; her channel view must say so ("resumed", with its final state) until she dismisses it, so she
// does not send it a second time. A payment sent after the restart is not "resumed", and a dismissed notice does
// not come back after another restart.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parseEther, Wallet } from 'ethers'
import createTestnet, { type Testnet } from 'hyperdht/testnet.js'
import WebSocket from 'ws'
import { UiProcess } from '../../app/test/ui-process.js'
import { useDevnet } from '../../contracts/test/fixture.js'
import { ChannelClient } from '../chain/index.js'
import { FileVault } from '../vault/index.js'
import { AppCore } from './app-core.js'
import type { AppStatus, ChannelView, TransferView } from './node-api.js'
import { SANDBOX_TIMING } from './sandbox-network.js'

/** The NodeApi of a `node --ui` process, over its WebSocket, as the browser UI calls it. */
class RemoteApi {
  private next = 1
  private readonly waiting = new Map<number, (reply: { ok: boolean; result?: unknown; error?: { code: string; message: string } }) => void>()

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; ok: boolean }
      if (typeof msg.id === 'number') this.waiting.get(msg.id)?.(msg)
    })
  }

  static async connect(url: string): Promise<RemoteApi> {
    const u = new URL(url)
    const token = new URLSearchParams(u.hash.slice(1)).get('token') ?? ''
    const ws = new WebSocket(`ws://${u.host}/api?token=${token}`, { headers: { origin: u.origin } })
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    return new RemoteApi(ws)
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.next++
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => {
        this.waiting.delete(id)
        if (reply.ok) resolve(reply.result as T)
        else reject(Object.assign(new Error(`${method}: ${reply.error?.code}: ${reply.error?.message}`), { code: reply.error?.code }))
      })
      this.ws.send(JSON.stringify({ id, method, args }))
    })
  }

  close(): void {
    this.ws.close()
  }
}

async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms
  let last: unknown
  for (;;) {
    try {
      const v = await read()
      if (ok(v)) return v
      last = v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('a payment finished after the app was killed', () => {
  // Accounts no other test imports: every UI test shares one OS keyring in npm test, and a second import of an
  // account is refused (ACCOUNT_EXISTS).
  const devnet = useDevnet({ accounts: 8 })
  const dir = mkdtempSync(join(tmpdir(), 'finished-after-crash-'))
  let testnet: Testnet
  let bob: AppCore | undefined
  let alice: UiProcess | undefined
  let api: RemoteApi | undefined

  before(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' })
  })
  after(async () => {
    api?.close()
    await alice?.stop()
    await bob?.close()
    await testnet?.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Alice's app started (again) from its data directory, her vault open. */
  async function startAlice(name: string): Promise<RemoteApi> {
    const d = devnet()
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
    alice = await UiProcess.start(['--data-dir', join(dir, 'alice'), '--rpc', d.rpcUrl, '--chain-id', d.chainId.toString(), '--bootstrap', bootstrap], name)
    const remote = await RemoteApi.connect(alice.url)
    // The OS keychain when there is one (npm test runs a throwaway one), else a vault file with a passphrase.
    if (!(await remote.call<AppStatus>('status')).vault.unlocked) await remote.call('unlockVault', 'alice\'s vault passphrase')
    return remote
  }

  it('shows the payment as finished after the restart, once, until dismissed', async () => {
    const d = devnet()
    const aliceAccount = new Wallet(d.keys[5]!).address
    const bobAccount = new Wallet(d.keys[6]!).address
    const network = async () => ({ kind: 'sandbox' as const, rpcUrl: d.rpcUrl, chainId: d.chainId, bootstrap: testnet.bootstrap, timing: SANDBOX_TIMING })
    bob = await AppCore.start({
      dataDir: join(dir, 'bob'),
      secretStore: await FileVault.create(join(dir, 'bob.vault'), 'a passphrase', { preset: 'interactive' }),
      sandbox: network,
    })
    await bob.importPrivateKey(d.keys[6]!)
    await bob.useNetwork({ kind: 'sandbox' })
    const created = await bob.createChannel({ depositWei: parseEther('1').toString() })
    const channel = created.address
    const chain = ChannelClient.at(channel, d.provider)

    api = await startAlice('alice')
    await api.call('importPrivateKey', d.keys[5]!)
    await api.call('useNetwork', { kind: 'sandbox' })
    await api.call('joinChannel', { invite: created.invite, depositWei: parseEther('1').toString() })
    const both = (v: ChannelView): boolean => v.members.length === 2 && v.members.every((m) => m.balanceWei === parseEther('1').toString())
    await until('a checkpoint counting both deposits', () => api!.call<ChannelView>('channel', channel), both)

    // Receipted, then the app is gone at once: no checkpoint can land without Alice's vote (two members).
    const paid = await api.call<TransferView>('send', channel, 0, parseEther('0.1').toString())
    await alice!.crash()
    api.close()
    assert.equal(paid.status, 'receipted')
    const afterCrash = (await chain.checkpoints()).at(-1)
    assert.deepEqual(afterCrash?.balances, [parseEther('1'), parseEther('1')], 'a checkpoint took the payment before the crash')

    api = await startAlice('alice again')
    const told = await until(
      'the payment shown as finished after the restart',
      () => api!.call<ChannelView>('channel', channel),
      (v) => v.resumed.some((r) => r.status === 'checkpointed'),
    )
    assert.deepEqual(told.resumed, [{ id: paid.id, counterparty: bobAccount, amountWei: parseEther('0.1').toString(), status: 'checkpointed' }])
    // Paid once: on chain, and in her history (a re-issue would keep the first id's record).
    const landed = (await chain.checkpoints()).at(-1)
    assert.deepEqual(landed?.balances, [parseEther('1.1'), parseEther('0.9')])
    const out = told.transfers.filter((t) => t.direction === 'out')
    assert.equal(out.length, 1, JSON.stringify(out))
    assert.equal(out[0]?.status, 'checkpointed')
    assert.equal(told.members[told.me]?.account, aliceAccount)

    // A payment of this run is its own business: not "resumed".
    const fresh = await api.call<TransferView>('send', channel, 0, parseEther('0.05').toString())
    const later = await until(
      'the new payment checkpointed',
      () => api!.call<ChannelView>('channel', channel),
      (v) => v.transfers.some((t) => t.id === fresh.id && t.status === 'checkpointed'),
    )
    assert.deepEqual(later.resumed.map((r) => r.id), [paid.id])

    await api.call('dismissResumed', channel, [paid.id])
    assert.deepEqual((await api.call<ChannelView>('channel', channel)).resumed, [])

    // Stopped and started again: nothing to tell, the dismissed payment included.
    api.close()
    await alice!.stop()
    api = await startAlice('alice a third time')
    const back = await until('the channel running again', () => api!.call<ChannelView>('channel', channel), () => true)
    const settled = await until(
      'two epochs and the settle time after the restart',
      () => api!.call<ChannelView>('channel', channel),
      (v) => BigInt(v.epoch) >= BigInt(back.epoch) + 2n,
    )
    await new Promise((r) => setTimeout(r, SANDBOX_TIMING.leaderTimeoutMs))
    assert.deepEqual(settled.resumed, [])
    assert.deepEqual((await api.call<ChannelView>('channel', channel)).resumed, [])
  })
})
