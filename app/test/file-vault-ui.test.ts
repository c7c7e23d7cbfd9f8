// A machine without an OS keychain (a headless server): the first run creates a passphrase-protected vault file
// through the UI; after a restart a wrong passphrase is refused with a clear error and leaves the file as it was,
// the right one brings the account back.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { UiProcess, launchChromium } from './ui-process.js'

const SCREENS = join('test-results', 'screens')

describe('keys without an OS keychain (vault file, through the UI)', () => {
  let work: string
  let browser: Browser
  let ui: UiProcess | undefined
  // No Secret Service can be reached at this address: the app must fall back to the vault file.
  const noKeychain = (): NodeJS.ProcessEnv => ({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(work, 'no-bus')}` })

  before(async () => {
    mkdirSync(SCREENS, { recursive: true })
    work = mkdtempSync(join(tmpdir(), 'ui-vault-'))
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await ui?.stop()
    rmSync(work, { recursive: true, force: true })
  })

  it('creates the vault, refuses a wrong passphrase after a restart, opens with the right one', { timeout: 120_000 }, async () => {
    const dataDir = join(work, 'carol')
    ui = await UiProcess.start(['--data-dir', dataDir], 'carol', noKeychain())
    const page = await (await browser.newContext()).newPage()
    await page.goto(ui.url)
    await page.getByText('No OS keychain here').waitFor()
    const field = page.getByLabel('Choose a vault passphrase')
    await field.fill('short')
    await page.getByRole('button', { name: 'Create vault' }).click()
    await page.getByRole('alert').filter({ hasText: 'at least 8 characters' }).waitFor()
    await field.fill('carol has a long passphrase')
    await page.getByRole('button', { name: 'Create vault' }).click()
    await page.getByText('Keys are kept in an encrypted vault file.').waitFor()
    await page.getByRole('button', { name: 'Create a new account' }).click()
    const account = (await page.getByText(/^Account 0x/).innerText()).replace('Account ', '')
    assert.match(account, /^0x[0-9a-fA-F]{40}$/)
    const vaultFile = join(dataDir, 'keys.vault')
    assert.equal(statSync(vaultFile).mode & 0o777, 0o600)
    const before = createHash('sha256').update(readFileSync(vaultFile)).digest('hex')

    await ui.stop()
    ui = await UiProcess.start(['--data-dir', dataDir], 'carol again', noKeychain())
    await page.goto(ui.url)
    const unlock = page.getByLabel('Vault passphrase')
    await unlock.fill('not my passphrase')
    await page.getByRole('button', { name: 'Unlock' }).click()
    await page.getByRole('alert').filter({ hasText: 'That passphrase does not open this vault.' }).waitFor()
    await page.screenshot({ path: join(SCREENS, '0-vault-wrong-passphrase.png'), fullPage: true })
    assert.equal(createHash('sha256').update(readFileSync(vaultFile)).digest('hex'), before, 'the vault file changed')
    await unlock.fill('carol has a long passphrase')
    await page.getByRole('button', { name: 'Unlock' }).click()
    await page.getByText(`Account ${account}`).waitFor()
    const logs = ui.output.join('')
    assert.ok(!logs.includes('carol has a long passphrase') && !logs.includes('not my passphrase'), 'a passphrase reached the log')
  })
})
