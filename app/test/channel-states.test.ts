// Channel-screen states the two-peer run cannot reach on demand (an open dispute with its countdown, money owed
// after an exit, a stale channel that may be closed), rendered by the built UI in Chromium with a scripted NodeApi
// behind the preload bridge. Disputes themselves are proven against the chain in core/consensus and core/node.
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import type { AppStatus, ChannelView } from '../../core/node/node-api.js'
import { contentType, uiFile } from '../../core/node/ui-assets.js'
import { launchChromium, until } from './ui-process.js'

const DIST = fileURLToPath(new URL('../renderer/dist/', import.meta.url))
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

describe('channel screen states (built UI, scripted NodeApi)', () => {
  let browser: Browser
  before(async () => {
    mkdirSync(join('test-results', 'screens'), { recursive: true })
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
  })

  async function open(channel: ChannelView): Promise<{ page: Page; calls: string[] }> {
    const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage()
    const calls: string[] = []
    await page.exposeFunction('__record', (method: string) => void calls.push(method))
    // A string, not a function: the test's own transpiled code would drag its helpers into the page.
    await page.addInitScript(`{
      const results = ${JSON.stringify({ status, channel, withdraw: '0xabc', closeChannel: '0xdef' })}
      const api = { onEvent: () => () => {} }
      for (const m of Object.keys(results)) api[m] = async () => (window.__record(m), { ok: true, result: results[m] })
      window.offchain = api
    }`)
    await page.route('http://ui.test/**', async (route) => {
      const file = uiFile(DIST, new URL(route.request().url()).pathname)
      if (!file) return route.fulfill({ status: 404 })
      await route.fulfill({ body: await readFile(file), contentType: contentType(file) })
    })
    await page.goto('http://ui.test/')
    await page.getByRole('button', { name: /^Channel 0x/ }).click()
    await page.getByTestId('my-balance').waitFor()
    return { page, calls }
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
    await until('the withdraw call', async () => calls.includes('withdraw'), 5000)
    assert.equal(await page.getByRole('button', { name: 'Send' }).count(), 0, 'an exited member cannot pay')
  })

  it('a channel without checkpoints for too long offers the on-chain close', async () => {
    const { page, calls } = await open(view({ closableAt: Math.floor(Date.now() / 1000) - 10 }))
    await page.getByRole('button', { name: 'Close the channel' }).click()
    await until('the close call', async () => calls.includes('closeChannel'), 5000)
  })
})
