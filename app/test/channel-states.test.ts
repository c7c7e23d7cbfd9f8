// Channel-screen states the two-peer run cannot reach on demand (an open dispute with its countdown, money owed
// after an exit, a stale channel that may be closed), rendered by the built UI in Chromium with a scripted NodeApi
// behind the real preload (app/preload/preload.ts, bundled as build/build-electron.ts bundles it, run in the page
// with a stand-in `electron` whose ipcRenderer records every call with its IPC channel and arguments). Disputes
// themselves are proven against the chain in core/consensus and core/node.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import { METHOD_NAMES } from '../../core/node/api-methods.js'
import type { AppStatus, ChannelView } from '../../core/node/node-api.js'
import { contentType, uiFile } from '../../core/node/ui-assets.js'
import { API_CHANNEL, EVENT_CHANNEL } from '../main/channels.js'
import { launchChromium, until } from './ui-process.js'

const DIST = fileURLToPath(new URL('../renderer/dist/', import.meta.url))
const PRELOAD = fileURLToPath(new URL('../preload/preload.ts', import.meta.url))
const CHANNEL = '0x9023d322fA513F93C1f8f6c6d533C907Faf804EE'
const ME = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const OTHER = '0xC2164b4f2a0B6A8e3A1e2a19b0C3A2a0C3b25a01'

const status: AppStatus = {
  vault: { kind: 'keychain', unlocked: true, exists: true },
  accounts: [ME],
  account: ME,
  network: { kind: 'sandbox', rpcUrl: 'http://127.0.0.1:8545', chainId: '31337' },
  walletWei: '5000000000000000000',
  channels: [{ address: CHANNEL, invite: `offchain:31337:${CHANNEL}`, state: 'running', me: 1, members: 2, balanceWei: '0' }],
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
      { index: 0, account: OTHER, online: true, exited: false, leader: true, balanceWei: '4250000000000000000' },
      { index: 1, account: ME, online: true, exited: false, leader: false, balanceWei: '6750000000000000000' },
    ],
    transfers: [],
    checkpoints: [],
    dispute: undefined,
    owedWei: '0',
    exited: false,
    closableAt: Math.floor(Date.now() / 1000) + 86_400,
    closed: false,
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

  async function open(channel: ChannelView): Promise<{ page: Page; calls: IpcCall[] }> {
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage()
    const calls: IpcCall[] = []
    await page.exposeFunction('__record', (call: IpcCall) => void calls.push(call))
    // A string, not a function: the test's own transpiled code would drag its helpers into the page. The stand-in
    // answers only on the API channel (Electron's invoke rejects on a channel without a handler), and only the
    // scripted methods; the preload's bundle runs as Electron runs a CommonJS preload, with `electron` required.
    await page.addInitScript(`{
      const results = ${JSON.stringify({ status, channel, withdraw: '0xabc', closeChannel: '0xdef' })}
      const API_CHANNEL = ${JSON.stringify(API_CHANNEL)}
      const electron = {
        contextBridge: {
          exposeInMainWorld: (key, value) => Object.defineProperty(window, key, { value: Object.freeze({ ...value }), enumerable: true }),
        },
        ipcRenderer: {
          invoke: async (channel, method, args) => {
            window.__record({ op: 'invoke', channel, method, args })
            if (channel !== API_CHANNEL) throw new Error("Error invoking remote method '" + channel + "': No handler registered")
            if (!Object.hasOwn(results, method)) return { ok: false, error: { code: 'BAD_CALL', message: 'not scripted: ' + method } }
            return { ok: true, result: results[method] }
          },
          on: (channel) => void window.__record({ op: 'on', channel }),
          removeListener: (channel) => void window.__record({ op: 'removeListener', channel }),
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
    await page.getByRole('button', { name: /^Channel 0x/ }).click()
    await page.getByTestId('my-balance').waitFor()
    // The preload exposed exactly the NodeApi and the event stream, and the UI went through it.
    const exposed = (await page.evaluate('Object.keys(window.offchain).sort()')) as string[]
    assert.deepEqual(exposed, [...METHOD_NAMES, 'onEvent'].sort())
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

  it('money owed after an exit can be withdrawn', async () => {
    const { page, calls } = await open(view({ exited: true, owedWei: '1500000000000000000' }))
    await page.getByText('The contract holds 1.5 ETH for you.').waitFor()
    await page.getByRole('button', { name: 'Withdraw' }).click()
    await until('the withdraw call', async () => invoked(calls, 'withdraw').length > 0, 5000)
    assert.deepEqual(invoked(calls, 'withdraw'), [{ op: 'invoke', channel: API_CHANNEL, method: 'withdraw', args: [CHANNEL] }])
    assert.equal(await page.getByRole('button', { name: 'Send' }).count(), 0, 'an exited member cannot pay')
  })

  it('a channel without checkpoints for too long offers the on-chain close', async () => {
    const { page, calls } = await open(view({ closableAt: Math.floor(Date.now() / 1000) - 10 }))
    await page.getByRole('button', { name: 'Close the channel' }).click()
    await until('the close call', async () => invoked(calls, 'closeChannel').length > 0, 5000)
    assert.deepEqual(invoked(calls, 'closeChannel'), [{ op: 'invoke', channel: API_CHANNEL, method: 'closeChannel', args: [CHANNEL] }])
  })
})
