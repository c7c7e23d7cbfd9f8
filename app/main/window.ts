// The one way windows are made, and the rules every window's contents live under (Electron's security checklist):
// isolated, sandboxed, no Node in the page, web security on, the UI only from app://, every permission denied, no
// navigation away and no new windows.
import type { BrowserWindow as BrowserWindowType, BrowserWindowConstructorOptions, Session, WebContents } from 'electron'

export const APP_ORIGIN = 'app://ui'

export function windowOptions(preload: string): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'Offchain Channels',
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  }
}

type WindowClass = new (options: BrowserWindowConstructorOptions) => BrowserWindowType

export function createWindow(BrowserWindow: WindowClass, preload: string): BrowserWindowType {
  const win = new BrowserWindow(windowOptions(preload))
  guardContents(win.webContents)
  win.once('ready-to-show', () => win.show())
  void win.loadURL(`${APP_ORIGIN}/index.html`)
  return win
}

/** Only our own pages, nothing opened from them. Links to the outside world are not opened at all. */
export function guardContents(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault()
  })
  contents.on('will-redirect', (event, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault()
  })
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

/** The app asks for no camera, microphone, notifications or anything else: deny all, checks included. */
export function denyPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
}

/** IPC is answered only for our own top frame. */
export function isTrustedSender(frame: { url: string; parent: unknown } | null | undefined): boolean {
  return !!frame && frame.parent === null && frame.url.startsWith(`${APP_ORIGIN}/`)
}
