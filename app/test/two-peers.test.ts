// The product as two people use it: two `node --ui` processes on one sandbox devnet and local DHT, each driven
// through its UI in Chromium. First run, create and join a channel (each opens it), deposit, pay each way, see
// receipts and the checkpoint land, see the leader move, exit. Screenshots of each screen go to test-results/screens/.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Wallet, formatEther, parseEther } from 'ethers'
import createTestnet from 'hyperdht/testnet.js'
import type { Browser, Page } from 'playwright-core'
import { startDevnet, type Devnet } from '../../core/chain/index.js'
import { UiProcess, launchChromium, until } from './ui-process.js'

const SCREENS = join('test-results', 'screens')

describe('two people, two apps, one channel (through the UI in Chromium)', () => {
  let devnet: Devnet
  let testnet: Awaited<ReturnType<typeof createTestnet>>
  let work: string
  const uis: UiProcess[] = []
  let browser: Browser

  const network = (): string[] => ['--rpc', devnet.rpcUrl, '--chain-id', devnet.chainId.toString(), '--bootstrap', testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')]

  before(async () => {
    mkdirSync(SCREENS, { recursive: true })
    work = mkdtempSync(join(tmpdir(), 'ui-e2e-'))
    devnet = await startDevnet({ accounts: 2 })
    testnet = await createTestnet(3, { host: '127.0.0.1' })
    for (const name of ['alice', 'bob']) uis.push(await UiProcess.start(['--data-dir', join(work, name), ...network()], name))
    browser = await launchChromium()
  })

  after(async () => {
    await browser?.close()
    await Promise.all(uis.map((u) => u.stop()))
    await testnet?.destroy()
    await devnet?.stop()
    rmSync(work, { recursive: true, force: true })
  })

  const shot = (page: Page, name: string): Promise<Buffer> => page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true })
  const text = (page: Page, testId: string): Promise<string> => page.getByTestId(testId).innerText()
  const balance = async (page: Page): Promise<string> => text(page, 'my-balance')

  it('first run, create, join, deposit, pay both ways, checkpoint, leader rotation, exit', { timeout: 300_000 }, async () => {
    const alice = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage()
    const bob = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage()
    const errors: string[] = []
    for (const p of [alice, bob]) p.on('pageerror', (e) => errors.push(e.message))
    await alice.goto(uis[0]!.url)
    await bob.goto(uis[1]!.url)

    // First run. Alice creates an account and takes test ether from the sandbox; Bob imports a funded key.
    await alice.getByRole('heading', { name: 'Welcome' }).waitFor()
    await shot(alice, '1-first-run')
    await alice.getByRole('button', { name: 'Create a new account' }).click()
    await alice.getByRole('button', { name: 'Connect' }).click()
    await alice.getByRole('heading', { name: 'Channels' }).waitFor({ timeout: 60_000 })
    await alice.getByRole('button', { name: 'Get 100 test ETH' }).click()
    await until('Alice funded', async () => (await text(alice, 'wallet')) === '100 ETH')

    await bob.getByRole('button', { name: 'Import a private key' }).click()
    await bob.getByLabel('Private key').fill(devnet.keys[1]!)
    await bob.getByRole('button', { name: 'Import', exact: true }).click()
    await bob.getByRole('button', { name: 'Connect' }).click()
    await bob.getByRole('heading', { name: 'Channels' }).waitFor({ timeout: 60_000 })
    await shot(bob, '2-channels')

    // Alice creates the channel with 5 ETH and shares its invite; Bob joins with 5 ETH.
    await alice.getByLabel('Your deposit (ETH)').first().fill('5')
    await alice.locator('textarea[name="members"]').fill(new Wallet(devnet.keys[1]!).address)
    await alice.getByRole('button', { name: 'Create channel' }).click()
    await alice.getByTestId('invite').waitFor({ timeout: 90_000 }) // the new channel opens
    const invite = await text(alice, 'invite')
    assert.match(invite, /^offchain:31337:0x[0-9a-fA-F]{40}$/)
    await bob.getByLabel('Invite', { exact: true }).fill(invite)
    await bob.locator('input[name="join-deposit"]').fill('5')
    await bob.getByRole('button', { name: 'Join channel' }).click()
    await bob.getByTestId('invite').waitFor({ timeout: 90_000 })

    // Both deposits count once a checkpoint includes them; both members show online.
    for (const p of [alice, bob]) await until('5 ETH in the channel', async () => (await balance(p)) === '5 ETH', 90_000)
    await until('Bob online for Alice', async () => (await alice.getByTestId('member-1').innerText()).includes('online'))

    // Pay each way: receipts come back, then the checkpoint of the epoch lands and marks them checkpointed.
    await alice.locator('input[name="amount"]').fill('1.25')
    await alice.getByRole('button', { name: 'Send', exact: true }).click()
    await until('Alice sees her payment receipted', async () => /Sent 1\.25 ETH to member 1.*\n?.*(receipted|checkpointed)/.test(await text(alice, 'activity')))
    await until('Bob sees it', async () => /Received 1\.25 ETH from member 0/.test(await text(bob, 'activity')))
    await bob.locator('input[name="amount"]').fill('0.5')
    await bob.getByRole('button', { name: 'Send', exact: true }).click()
    await until('Bob sees his payment receipted', async () => /Sent 0\.5 ETH to member 0.*\n?.*(receipted|checkpointed)/.test(await text(bob, 'activity')))
    await until('both checkpointed for Alice', async () => (await text(alice, 'activity')).split('checkpointed').length - 1 === 2, 60_000)
    await until('Alice holds 4.25 ETH', async () => (await balance(alice)) === '4.25 ETH')
    await until('Bob holds 5.75 ETH', async () => (await balance(bob)) === '5.75 ETH')
    const checkpoints = await text(alice, 'checkpoints')
    assert.match(checkpoints, /Epoch \d+ · led by member [01] · \d+ transfers · tx\s+0x/)
    await shot(alice, '3-channel-alice')

    // Bob's app is killed (kill -9) and started again on the same data: it comes back to his channel with nothing lost.
    await uis[1]!.crash()
    uis[1] = await UiProcess.start(['--data-dir', join(work, 'bob'), ...network()], 'bob again')
    await bob.goto(uis[1]!.url)
    await bob.getByRole('button', { name: /^Channel 0x/ }).click({ timeout: 90_000 })
    await until('Bob still holds 5.75 ETH', async () => (await balance(bob)) === '5.75 ETH', 60_000)
    assert.match(await text(bob, 'activity'), /Received 1\.25 ETH from member 0/)
    assert.match(await text(bob, 'activity'), /Sent 0\.5 ETH to member 0/)
    await until('Bob online again for Alice', async () => (await alice.getByTestId('member-1').innerText()).includes('online'), 60_000)

    // The leader moves: each member leads in turn.
    const leaders = new Set<number>()
    await until('both members lead in turn', async () => {
      for (const i of [0, 1]) if ((await alice.getByTestId(`member-${i}`).innerText()).includes('leader')) leaders.add(i)
      return leaders.size === 2
    }, 60_000)

    // Bob deposits 1 ETH more; the next checkpoint includes it.
    await bob.locator('input[name="deposit"]').fill('1')
    await bob.getByRole('button', { name: 'Deposit', exact: true }).click()
    await until('Bob holds 6.75 ETH', async () => (await balance(bob)) === '6.75 ETH', 60_000)
    await shot(bob, '4-channel-bob')

    // Bob exits: the next checkpoint pays him out on chain.
    const before = await devnet.provider.getBalance(await bob.getByTestId('account').innerText().then((s) => s.split(' ')[0]!))
    await bob.getByRole('button', { name: 'Exit the channel' }).click()
    await until('Bob exited', async () => (await balance(bob).catch(() => '')) !== '' && (await bob.getByText('exited').count()) > 0, 90_000)
    const bobAddress = (await bob.getByTestId('account').innerText()).split(' ')[0]!
    const afterExit = await devnet.provider.getBalance(bobAddress)
    assert.ok(afterExit - before > parseEther('6.7'), `Bob's wallet grew by ${formatEther(afterExit - before)} ETH only`)
    await until('Alice sees Bob exited', async () => (await alice.getByTestId('member-1').innerText()).includes('exited'), 30_000)
    await shot(alice, '5-after-exit')

    await bob.getByRole('button', { name: 'Settings' }).click()
    await bob.getByRole('heading', { name: 'Settings' }).waitFor()
    await shot(bob, '6-settings')
    assert.deepEqual(errors, [])
  })
})
