// Channel-screen states the two-peer run cannot reach on demand (an open dispute with its countdown, money owed
// after an exit, a stale channel that may be closed, a deposit pending, events pushed in any order), rendered by the
// built UI in Chromium with a scripted NodeApi behind the real preload (app/preload/preload.ts, bundled as
// build/build-electron.ts bundles it, run in the page with a stand-in `electron` whose ipcRenderer records every
// call with its IPC channel and arguments, and delivers the events a test pushes). Disputes themselves are proven
// against the chain in core/consensus and core/node.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import { METHOD_NAMES } from '../../core/node/api-methods.js'
import type { AppStatus, ChannelLiveEvent, ChannelSettingsView, ChannelSummary, ChannelView, TransferView } from '../../core/node/node-api.js'
import { contentType, uiFile } from '../../core/node/ui-assets.js'
import { API_CHANNEL, EVENT_CHANNEL } from '../main/channels.js'
import { launchChromium, until } from './ui-process.js'

const DIST = fileURLToPath(new URL('../renderer/dist/', import.meta.url))
const PRELOAD = fileURLToPath(new URL('../preload/preload.ts', import.meta.url))
const CHANNEL = '0x9023d322fA513F93C1f8f6c6d533C907Faf804EE'
const ME = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const OTHER = '0xC2164b4f2a0B6A8e3A1e2a19b0C3A2a0C3b25a01'

const baseStatus: AppStatus = {
  vault: { kind: 'keychain', unlocked: true, exists: true },
  accounts: [ME],
  account: ME,
  network: { kind: 'sandbox', rpcUrl: 'http://127.0.0.1:8545', chainId: '31337' },
  walletWei: '5000000000000000000',
  channels: [{ address: CHANNEL, invite: `offchain:31337:${CHANNEL}`, state: 'running', me: 1, members: 2, balanceWei: '0' }],
}

/** What channelSettings answers per invite: an open channel's settings, or foreign code refused. */
const OPEN_CHANNEL = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const FOREIGN = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512'
const settings: ChannelSettingsView = {
  address: OPEN_CHANNEL,
  chainId: '31337',
  codeVerified: true,
  staleAfterSeconds: 7 * 86_400,
  responseWindowSeconds: 300,
  challengeWindowSeconds: 86_400,
  txCap: 256,
  minDepositWei: '100000000000000000',
  members: 3,
  maxMembers: 64,
  inviteOnly: false,
  mayJoin: true,
  closed: false,
}
const UNKNOWN = `The contract at ${FOREIGN} is not this app's channel contract (its code differs), so the app will not send money to it. Ask whoever sent the invite to check it; nothing was sent.`
const byInvite = {
  channelSettings: {
    [`offchain:31337:${OPEN_CHANNEL}`]: { ok: true, result: settings },
    [`offchain:31337:${FOREIGN}`]: { ok: false, error: { code: 'UNKNOWN_CONTRACT', message: UNKNOWN } },
  },
}

function view(over: Partial<ChannelView>): ChannelView {
  return {
    address: CHANNEL,
    invite: `offchain:31337:${CHANNEL}`,
    chainId: '31337',
    me: 1,
    epoch: '7',
    leader: 0,
    phase: 'trading',
    receipts: 3,
    voted: [],
    awaiting: [],
    members: [
      { index: 0, account: OTHER, online: true, exited: false, leader: true, balanceWei: '4250000000000000000', pendingDepositWei: '0', ignoredEntries: 0 },
      { index: 1, account: ME, online: true, exited: false, leader: false, balanceWei: '6750000000000000000', pendingDepositWei: '0', ignoredEntries: 0 },
    ],
    epochEndsAt: Date.now() + 2000,
    liveSeq: 0,
    transfers: [],
    checkpoints: [],
    dispute: undefined,
    owedWei: '0',
    exited: false,
    closableAt: Math.floor(Date.now() / 1000) + 86_400,
    closed: false,
    gasSpent: { feeWei: '0', transactions: 0, unread: 0 },
    resumed: [],
    ...over,
  }
}

/** The preload bundled with build/build-electron.ts's options: CommonJS, everything but `electron` inside. */
async function preloadBundle(): Promise<string> {
  const out = await build({
    entryPoints: [PRELOAD],
    bundle: true,
    platform: 'node',
    target: 'node20',
    packages: 'bundle',
    external: ['electron'],
    format: 'cjs',
    write: false,
    logLevel: 'warning',
  })
  return out.outputFiles[0]!.text
}

/** One ipcRenderer call made by the preload: invoke (a NodeApi call), on or removeListener (the event stream). */
interface IpcCall {
  op: 'invoke' | 'on' | 'removeListener'
  channel: string
  method?: string
  args?: unknown[]
}

describe('channel screen states (built UI, scripted NodeApi)', () => {
  let browser: Browser
  let preload: string
  before(async () => {
    mkdirSync(join('test-results', 'screens'), { recursive: true })
    preload = await preloadBundle()
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
  })

  /**
   * The built UI over a scripted NodeApi, on the channel's screen (or, with `enter` false, the channel list);
   * `listed` changes the channel's line in the status.
   */
  async function open(channel: ChannelView, { enter = true, listed = {} as Partial<ChannelSummary> } = {}): Promise<{ page: Page; calls: IpcCall[] }> {
    const status: AppStatus = { ...baseStatus, channels: baseStatus.channels.map((c) => ({ ...c, ...listed })) }
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage()
    const calls: IpcCall[] = []
    await page.exposeFunction('__record', (call: IpcCall) => void calls.push(call))
    // A string, not a function: the test's own transpiled code would drag its helpers into the page. The stand-in
    // answers only on the API channel (Electron's invoke rejects on a channel without a handler), and only the
    // scripted methods; the preload's bundle runs as Electron runs a CommonJS preload, with `electron` required.
    await page.addInitScript(`{
      const results = ${JSON.stringify({ status, channel, withdraw: '0xabc', closeChannel: '0xdef', dismissResumed: null })}
      const byFirstArg = ${JSON.stringify(byInvite)}
      const API_CHANNEL = ${JSON.stringify(API_CHANNEL)}
      // Events a test pushes reach every listener the preload registered, as Electron's ipcRenderer delivers them.
      window.__handlers = []
      window.__push = (e) => { for (const h of window.__handlers) h({}, e) }
      const electron = {
        contextBridge: {
          exposeInMainWorld: (key, value) => Object.defineProperty(window, key, { value: Object.freeze({ ...value }), enumerable: true }),
        },
        ipcRenderer: {
          invoke: async (channel, method, args) => {
            window.__record({ op: 'invoke', channel, method, args })
            if (channel !== API_CHANNEL) throw new Error("Error invoking remote method '" + channel + "': No handler registered")
            if (Object.hasOwn(byFirstArg, method)) return byFirstArg[method][args[0]] ?? { ok: false, error: { code: 'BAD_CALL', message: 'not scripted: ' + args[0] } }
            if (!Object.hasOwn(results, method)) return { ok: false, error: { code: 'BAD_CALL', message: 'not scripted: ' + method } }
            return { ok: true, result: results[method] }
          },
          on: (channel, handler) => {
            window.__record({ op: 'on', channel })
            window.__handlers.push(handler)
          },
          removeListener: (channel, handler) => {
            window.__record({ op: 'removeListener', channel })
            window.__handlers = window.__handlers.filter((h) => h !== handler)
          },
        },
      }
      const require = (name) => {
        if (name === 'electron') return electron
        throw new Error('the preload required ' + name)
      }
      const module = { exports: {} }
      new Function('require', 'module', 'exports', ${JSON.stringify(preload)})(require, module, module.exports)
    }`)
    await page.route('http://ui.test/**', async (route) => {
      const file = uiFile(DIST, new URL(route.request().url()).pathname)
      if (!file) return route.fulfill({ status: 404 })
      await route.fulfill({ body: await readFile(file), contentType: contentType(file) })
    })
    await page.goto('http://ui.test/')
    await page.getByRole('button', { name: /^Channel 0x/ }).waitFor()
    // The preload exposed exactly the NodeApi and the event stream, and the UI went through it.
    const exposed = (await page.evaluate('Object.keys(window.offchain).sort()')) as string[]
    assert.deepEqual(exposed, [...METHOD_NAMES, 'onEvent'].sort())
    if (!enter) return { page, calls }
    await page.getByRole('button', { name: /^Channel 0x/ }).click()
    await page.getByTestId('my-balance').waitFor()
    await until('the event listener', async () => calls.some((c) => c.op === 'on'), 5000)
    assert.ok(calls.some((c) => c.op === 'on' && c.channel === EVENT_CHANNEL), 'the UI listens on the event channel')
    await until('the channel call', async () => invoked(calls, 'channel').length > 0, 5000)
    assert.deepEqual(invoked(calls, 'channel')[0], { op: 'invoke', channel: API_CHANNEL, method: 'channel', args: [CHANNEL] })
    return { page, calls }
  }

  /** The NodeApi calls of `method` made through the preload; every call on any channel went to the API channel. */
  function invoked(calls: IpcCall[], method: string): IpcCall[] {
    for (const c of calls) if (c.op === 'invoke') assert.equal(c.channel, API_CHANNEL, JSON.stringify(c))
    return calls.filter((c) => c.op === 'invoke' && c.method === method)
  }

  it('an open dispute shows who challenged whom and a countdown that runs', async () => {
    const deadline = Math.floor(Date.now() / 1000) + 125
    const { page } = await open(view({ phase: 'dispute', dispute: { epoch: '7', challenger: 1, leader: 0, deadline, responded: false } }))
    const banner = page.getByTestId('dispute')
    const first = await banner.innerText()
    assert.match(first, /Dispute on epoch 7: member 1 challenged leader 0\. The leader has 2:0\d left to respond\./)
    await page.waitForTimeout(2500)
    assert.notEqual(await banner.innerText(), first, 'the countdown did not move')
    assert.match(await page.getByTestId('phase').innerText(), /Dispute open/)
    await page.screenshot({ path: join('test-results', 'screens', '7-dispute.png'), fullPage: true })
  })

  it('a member whose entries were ignored as junk is marked, with the count', async () => {
    const base = view({})
    const { page } = await open(view({ members: base.members.map((m) => (m.index === 0 ? { ...m, ignoredEntries: 2016 } : m)) }))
    assert.equal(await page.getByTestId('ignored-0').innerText(), '2016 bad entries ignored')
    assert.equal(await page.getByTestId('ignored-1').count(), 0, 'a member with none is not marked')
  })

  it('the gas the channel has cost the member is shown, small fees to four digits, a partial sum as such', async () => {
    const { page } = await open(view({ gasSpent: { feeWei: '421337000000000', transactions: 5, unread: 0 } }))
    const gas = page.getByTestId('gas-spent')
    assert.equal((await gas.innerText()).trim(), 'Gas paid for this channel: 0.0004213 ETH over 5 transactions')
    const partial = await open(view({ gasSpent: { feeWei: '21000000000', transactions: 1, unread: 12 } }))
    assert.equal(
      (await partial.page.getByTestId('gas-spent').innerText()).replace(/\s+/g, ' ').trim(),
      'Gas paid for this channel: 0.000000021 ETH over 1 transaction so far (12 more being read from the chain)',
    )
  })

  it('payments that finished after a restart are told, paid or not, until dismissed', async () => {
    const paid = `0x${'a1'.repeat(16)}`
    const unpaid = `0x${'b2'.repeat(16)}`
    const { page, calls } = await open(
      view({
        resumed: [
          { id: paid, counterparty: OTHER, amountWei: '100000000000000000', status: 'checkpointed' },
          { id: unpaid, counterparty: OTHER, amountWei: '250000000000000000', status: 'rejected', reason: 'EPOCH_ENDED' },
        ],
      }),
    )
    const notice = page.getByTestId('resumed')
    const lines = (await notice.locator('li').allInnerTexts()).map((l) => l.replace(/\s+/g, ' ').trim())
    assert.deepEqual(lines, [
      'Finished after the app restarted: 0.1 ETH to member 0 (0xC216…5a01) — checkpointed: it is paid, do not send it again',
      'Finished after the app restarted: 0.25 ETH to member 0 (0xC216…5a01) — failed (EPOCH_ENDED): it was not paid',
    ])
    await page.screenshot({ path: join('test-results', 'screens', '8-finished-after-restart.png'), fullPage: true })
    await notice.getByRole('button', { name: 'Dismiss' }).click()
    await until('the dismiss call', async () => invoked(calls, 'dismissResumed').length > 0, 5000)
    assert.deepEqual(invoked(calls, 'dismissResumed'), [{ op: 'invoke', channel: API_CHANNEL, method: 'dismissResumed', args: [CHANNEL, [paid, unpaid]] }])
  })

  it('money owed after an exit can be withdrawn', async () => {
    const { page, calls } = await open(view({ exited: true, owedWei: '1500000000000000000' }))
    await page.getByText('The contract holds 1.5 ETH for you.').waitFor()
    await page.getByRole('button', { name: 'Withdraw' }).click()
    await until('the withdraw call', async () => invoked(calls, 'withdraw').length > 0, 5000)
    assert.deepEqual(invoked(calls, 'withdraw'), [{ op: 'invoke', channel: API_CHANNEL, method: 'withdraw', args: [CHANNEL] }])
    assert.equal(await page.getByRole('button', { name: 'Send' }).count(), 0, 'an exited member cannot pay')
  })

  it('joining shows the channel\'s settings first, and foreign code is refused before any deposit', async () => {
    const { page, calls } = await open(view({}), { enter: false })
    const invite = page.locator('input[name="invite"]')
    const joinButton = page.getByRole('button', { name: 'Join channel' })
    await invite.fill(`offchain:31337:${OPEN_CHANNEL}`)
    const shown = page.getByTestId('channel-settings')
    await shown.waitFor()
    const text = await shown.innerText()
    for (const line of [
      /Contract\s+this app's channel contract \(code checked\)/,
      /Members\s+3 of at most 64/,
      /Who may join\s+anyone with the invite/,
      /Stale-close delay\s+7 days: with no checkpoint for that long/,
      /Response window\s+5 minutes for a challenged leader to answer/,
      /Challenge window\s+1 day for a member who did not vote/,
      /Per-epoch cap\s+256 payments per member per epoch/,
      /Least deposit\s+0\.1 ETH/,
    ]) assert.match(text, line)
    assert.equal(await joinButton.isEnabled(), true)
    await page.screenshot({ path: join('test-results', 'screens', '2b-join-settings.png'), fullPage: true })

    await invite.fill(`offchain:31337:${FOREIGN}`)
    const refused = page.getByTestId('channel-check-error')
    await refused.waitFor()
    assert.equal(await refused.innerText(), UNKNOWN)
    assert.equal(await shown.count(), 0, 'no settings shown for foreign code')
    assert.equal(await joinButton.isDisabled(), true, 'no join offered into foreign code')
    assert.deepEqual(invoked(calls, 'channelSettings').map((c) => c.args), [[`offchain:31337:${OPEN_CHANNEL}`], [`offchain:31337:${FOREIGN}`]])
    assert.equal(invoked(calls, 'joinChannel').length, 0)
  })

  it('a pushed change shows at once without reading the channel again; an older one is ignored', async () => {
    const { page, calls } = await open(view({ liveSeq: 5 }))
    const reads = invoked(calls, 'channel').length
    const base = view({})
    const payment: TransferView = { id: `0x${'c3'.repeat(16)}`, epoch: '7', direction: 'in', counterparty: OTHER, amountWei: '100000000000000000', status: 'receipted', updatedAt: Date.now() }
    const live = (myBalance: string, receipts: number): ChannelLiveEvent['live'] => ({
      epoch: base.epoch,
      leader: base.leader,
      phase: base.phase,
      receipts,
      voted: [],
      awaiting: [],
      members: base.members.map((m) => (m.index === 1 ? { ...m, balanceWei: myBalance } : m)),
      epochEndsAt: base.epochEndsAt,
    })
    const push = (e: Omit<ChannelLiveEvent, 'type' | 'channel' | 'at'>): Promise<unknown> =>
      page.evaluate(`window.__push(${JSON.stringify({ type: 'channel-live', channel: CHANNEL, at: Date.now(), ...e })})`)
    const rows = page.getByTestId('activity').locator('li')

    await push({ seq: 6, live: live('6850000000000000000', 4), transfers: [payment] })
    await until('the payment listed', async () => (await rows.count()) === 1, 5000)
    assert.match((await rows.innerText()).replace(/\s+/g, ' '), /Received 0\.1 ETH from member 0 \(0xC216…5a01\) receipted/)
    assert.equal(await page.getByTestId('my-balance').innerText(), '6.85 ETH')
    assert.match(await page.getByTestId('phase').innerText(), /4 receipts so far/)

    await push({ seq: 4, live: live('1000000000000000000', 1), transfers: [] }) // sent before what the screen shows
    await push({ seq: 7, live: live('6850000000000000000', 4), transfers: [{ ...payment, status: 'checkpointed' }] })
    await until('the same row checkpointed', async () => (await rows.innerText()).includes('checkpointed'), 5000)
    assert.equal(await rows.count(), 1, 'one row per payment')
    assert.equal(await page.getByTestId('my-balance').innerText(), '6.85 ETH', 'an older event was applied')
    assert.equal(invoked(calls, 'channel').length, reads, 'the channel was read again for a pushed change')
  })

  it('a deposit not yet counted shows as pending, with when the next checkpoint counts it, in the list too', async () => {
    const oneEth = '1000000000000000000'
    const listed = { balanceWei: '0', pendingDepositWei: '5000000000000000000' }
    const list = await open(view({}), { enter: false, listed })
    assert.equal(
      (await list.page.getByTestId('channel-line').innerText()).trim(),
      '2 members · you hold 0 ETH · 5 ETH deposited, counted at the next checkpoint',
    )
    const base = view({})
    const { page } = await open(view({
      epochEndsAt: Date.now() + 30 * 60_000, // an hour's epoch half gone (and room for a slow page)
      members: base.members.map((m) => (m.index === 1 ? { ...m, pendingDepositWei: oneEth } : m)),
    }))
    assert.match(await page.getByTestId('my-pending').innerText(), /^· 1 ETH deposited, counted at the next checkpoint in about (29|30) minutes$/)
    assert.match(await page.getByTestId('member-1').innerText(), /6\.75 ETH\s+\+1 ETH pending/)
    assert.doesNotMatch(await page.getByTestId('member-0').innerText(), /pending/)
    await page.screenshot({ path: join('test-results', 'screens', '9-deposit-pending.png'), fullPage: true })
    const due = await open(view({ epochEndsAt: Date.now() - 500, members: base.members.map((m) => (m.index === 1 ? { ...m, pendingDepositWei: oneEth } : m)) }))
    assert.match(await due.page.getByTestId('my-pending').innerText(), /counted at the next checkpoint any moment now$/)
  })

  it('a channel without checkpoints for too long offers the on-chain close', async () => {
    const { page, calls } = await open(view({ closableAt: Math.floor(Date.now() / 1000) - 10 }))
    await page.getByRole('button', { name: 'Close the channel' }).click()
    await until('the close call', async () => invoked(calls, 'closeChannel').length > 0, 5000)
    assert.deepEqual(invoked(calls, 'closeChannel'), [{ op: 'invoke', channel: API_CHANNEL, method: 'closeChannel', args: [CHANNEL] }])
  })
})
