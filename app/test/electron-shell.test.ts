// Electron's main process as built (app/main/dist/main.mjs), run in Node against the stand-in `electron` module:
// its composition (schemes before ready, per-data-dir lock, the app:// protocol, permissions, the window) and the
// real core host in its own process behind the IPC relay, restarted with nothing lost when killed.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { register } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { record } from './electron-stand-in/electron.js'
import { until } from './ui-process.js'

describe('Electron main as built, with the real core process (stand-in electron)', () => {
  let dataDir: string
  const trusted = { senderFrame: { url: 'app://ui/index.html', parent: null } }
  const call = (method: string, ...args: unknown[]): Promise<{ ok: boolean; result?: unknown; error?: { code: string } }> =>
    record.ipcHandlers.get('offchain:api')!(trusted, method, args) as Promise<{ ok: boolean; result?: unknown; error?: { code: string } }>

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'electron-shell-'))
    register('./electron-stand-in/hook.mjs', import.meta.url)
    process.argv.push('--data-dir', dataDir)
    await import(new URL('../main/dist/main.mjs', import.meta.url).href)
    await until('the window', async () => record.windows.length === 1, 10_000)
  })
  after(async () => {
    const { app } = await import('./electron-stand-in/electron.js')
    app.quit() // main stops the core: no restart after this
    await until('the core processes gone', async () => record.forks.every((f) => f.child.exitCode !== null || f.child.signalCode !== null), 15_000)
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('registers app:// before ready, locks per data directory, denies permissions, opens one hardened window', async () => {
    assert.deepEqual(record.privilegedSchemes, [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }])
    assert.equal(record.paths.get('userData'), join(dataDir, 'electron'))
    assert.equal(record.singleInstanceLock, true)
    let granted: boolean | undefined
    record.permissionRequest!(null, 'media', (ok) => (granted = ok))
    assert.equal(granted, false)
    const win = record.windows[0]!
    assert.equal(win.url, 'app://ui/index.html')
    const web = win.options.webPreferences as Record<string, unknown>
    assert.deepEqual([web.contextIsolation, web.sandbox, web.nodeIntegration, web.webSecurity], [true, true, false, true])
    assert.match(String(web.preload), /app\/main\/dist\/preload\.cjs$/)
    assert.deepEqual(win.webContents.openHandler?.(), { action: 'deny' })
  })

  it('serves the built UI on app:// with a CSP, and nothing outside it', async () => {
    const serve = record.protocolHandlers.get('app')!
    const page = await serve(new Request('app://ui/index.html'))
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'.*connect-src 'none'/)
    assert.match(await page.text(), /<div id="app">/)
    assert.equal((await serve(new Request('app://ui/%2e%2e/%2e%2e/package.json'))).status, 404)
    assert.equal((await serve(new Request('app://ui/%E0%A4%A'))).status, 404)
  })

  it('answers through the core process, and after a crash of that process the core comes back with its data', { timeout: 60_000 }, async () => {
    const status = await until('the core', async () => {
      const r = await call('status')
      return r.ok ? r : undefined
    }, 30_000)
    assert.deepEqual((status.result as { accounts: string[] }).accounts, [])
    const created = await call('createAccount')
    assert.equal(created.ok, true, JSON.stringify(created))
    assert.equal((await call('send', 'nope', 1, '1')).error?.code, 'BAD_ARGUMENTS')

    record.forks[0]!.child.kill('SIGKILL')
    await until('a new core process', async () => record.forks.length === 2, 10_000)
    const back = await until('the restarted core', async () => {
      const r = await call('status')
      return r.ok ? r : undefined
    }, 30_000)
    assert.deepEqual((back.result as { accounts: string[] }).accounts, [created.result])
    assert.ok(record.windows[0]!.webContents.sent.some(([channel]) => channel === 'offchain:event'), 'no event reached the window')
  })
})
