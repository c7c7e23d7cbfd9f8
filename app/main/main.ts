// Electron's main process, kept thin: one hardened window, the UI from app://, the core in a utility process, and
// the NodeApi relayed between them. `--data-dir DIR` gives an instance its own data and its own single-instance
// lock, so two can run side by side.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BrowserWindow, app, ipcMain, protocol, session, utilityProcess } from 'electron'
import { defaultDataDir } from '../../core/node/data-dir.js'
import { contentSecurityPolicy, contentType, uiFile } from '../../core/node/ui-assets.js'
import { EVENT_CHANNEL, relayApi } from './api-relay.js'
import { UtilityCoreLink } from './core-link.js'
import { createWindow, denyPermissions, guardContents } from './window.js'

const here = fileURLToPath(new URL('.', import.meta.url))
const RENDERER = join(here, '..', '..', 'renderer', 'dist')

const at = process.argv.indexOf('--data-dir')
const dataDir = at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : defaultDataDir()
app.setPath('userData', join(dataDir, 'electron'))

protocol.registerSchemesAsPrivileged([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }])

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  let win: BrowserWindow | undefined
  app.on('second-instance', () => {
    if (win?.isMinimized()) win.restore()
    win?.focus()
  })
  app.on('web-contents-created', (_event, contents) => guardContents(contents))
  app.on('window-all-closed', () => app.quit())

  void app.whenReady().then(() => {
    protocol.handle('app', async (request) => {
      try {
        const file = uiFile(RENDERER, new URL(request.url).pathname)
        if (!file) return new Response('not found', { status: 404 })
        return new Response(await readFile(file), {
          headers: { 'content-type': contentType(file), 'content-security-policy': contentSecurityPolicy("'none'") },
        })
      } catch {
        return new Response('not found', { status: 404 })
      }
    })
    denyPermissions(session.defaultSession)
    const core = new UtilityCoreLink(() =>
      utilityProcess.fork(join(here, 'core-host.mjs'), ['--data-dir', dataDir], { serviceName: 'Offchain Channels core', stdio: 'inherit' }),
    )
    relayApi(ipcMain, core)
    core.onEvent((e) => win?.webContents.send(EVENT_CHANNEL, e))
    win = createWindow(BrowserWindow, join(here, 'preload.cjs'))
    app.on('before-quit', () => core.stop())
  })
}
