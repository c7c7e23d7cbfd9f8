// Electron's main process wiring, against stand-ins for Electron's objects (the Electron binary cannot be
// downloaded here): window options, contents guards, permissions, IPC sender and schema checks, call timeouts,
// and the core process's restart.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import type { BrowserWindowConstructorOptions, IpcMain, Session, UtilityProcess, WebContents } from 'electron'
import { relayApi, type CoreLink } from '../main/api-relay.js'
import { UtilityCoreLink } from '../main/core-link.js'
import { APP_ORIGIN, createWindow, denyPermissions, guardContents, isTrustedSender } from '../main/window.js'

class FakeContents extends EventEmitter {
  openHandler: (() => { action: string }) | undefined
  setWindowOpenHandler(h: () => { action: string }): void {
    this.openHandler = h
  }
}

class FakeWindow extends EventEmitter {
  static made: FakeWindow[] = []
  readonly webContents = new FakeContents()
  loaded: string | undefined
  constructor(readonly options: BrowserWindowConstructorOptions) {
    super()
    FakeWindow.made.push(this)
  }
  async loadURL(url: string): Promise<void> {
    this.loaded = url
  }
  show(): void {}
}

function navigate(contents: FakeContents, event: string, url: string): boolean {
  let prevented = false
  contents.emit(event, { preventDefault: () => (prevented = true) }, url)
  return prevented
}

describe('Electron main (stand-in electron)', () => {
  it('makes every window isolated, sandboxed, without Node, with web security, loading the UI from app://', () => {
    const win = createWindow(FakeWindow as never, '/x/preload.cjs') as unknown as FakeWindow
    const web = win.options.webPreferences!
    assert.equal(web.contextIsolation, true)
    assert.equal(web.sandbox, true)
    assert.equal(web.nodeIntegration, false)
    assert.equal(web.webSecurity, true)
    assert.equal(web.allowRunningInsecureContent, false)
    assert.equal(web.webviewTag, false)
    assert.equal(web.preload, '/x/preload.cjs')
    assert.equal(win.loaded, `${APP_ORIGIN}/index.html`)
    assert.ok(!win.loaded.startsWith('file:'))
  })

  it('denies navigation away, redirects, new windows and webviews', () => {
    const c = new FakeContents()
    guardContents(c as unknown as WebContents)
    assert.equal(navigate(c, 'will-navigate', 'https://evil.example/'), true)
    assert.equal(navigate(c, 'will-navigate', 'file:///etc/passwd'), true)
    assert.equal(navigate(c, 'will-redirect', 'https://evil.example/'), true)
    assert.equal(navigate(c, 'will-navigate', `${APP_ORIGIN}/index.html`), false)
    assert.deepEqual(c.openHandler?.(), { action: 'deny' })
    assert.equal(navigate(c, 'will-attach-webview', ''), true)
  })

  it('denies every permission request and check', () => {
    let request: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | undefined
    let check: (() => boolean) | undefined
    denyPermissions({
      setPermissionRequestHandler: (h: typeof request) => (request = h),
      setPermissionCheckHandler: (h: typeof check) => (check = h),
    } as unknown as Session)
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read']) {
      let granted: boolean | undefined
      request!(null, p, (ok) => (granted = ok))
      assert.equal(granted, false)
    }
    assert.equal(check!(), false)
  })

  it('relays only calls from our top frame, with arguments the schema accepts, and times out a silent core', async () => {
    const seen: Array<[string, unknown[]]> = []
    let silent = false
    const core: CoreLink = {
      call: async (method, args) => {
        seen.push([method, args])
        if (silent) return new Promise(() => {})
        return { ok: true, result: 'fine' }
      },
      onEvent: () => {},
    }
    let handler: ((e: unknown, m: unknown, a: unknown) => Promise<unknown>) | undefined
    relayApi({ handle: (_c: string, h: typeof handler) => (handler = h) } as unknown as IpcMain, core, 200)
    const top = { senderFrame: { url: `${APP_ORIGIN}/index.html`, parent: null } }
    assert.deepEqual(await handler!(top, 'status', []), { ok: true, result: 'fine' })
    const fromElsewhere = await handler!({ senderFrame: { url: 'https://evil.example/', parent: null } }, 'status', [])
    assert.equal((fromElsewhere as { error: { code: string } }).error.code, 'FORBIDDEN')
    const fromSubframe = await handler!({ senderFrame: { url: `${APP_ORIGIN}/x`, parent: {} } }, 'status', [])
    assert.equal((fromSubframe as { error: { code: string } }).error.code, 'FORBIDDEN')
    const badArgs = await handler!(top, 'send', ['0xnope', 1, '-5'])
    assert.equal((badArgs as { error: { code: string } }).error.code, 'BAD_ARGUMENTS')
    const unknown = await handler!(top, '__proto__', [])
    assert.equal((unknown as { error: { code: string } }).error.code, 'BAD_CALL')
    assert.deepEqual(seen, [['status', []]], 'refused calls must not reach the core')
    silent = true
    const slow = await handler!(top, 'status', [])
    assert.equal((slow as { error: { code: string } }).error.code, 'TIMEOUT')
    assert.equal(isTrustedSender(null), false)
  })

  it('routes replies and events from the core process, and restarts it when it dies', async () => {
    const spawned: FakeChild[] = []
    class FakeChild extends EventEmitter {
      pid: number | undefined = 100 + spawned.length
      posted: Array<{ id: number; method: string }> = []
      postMessage(m: { id: number; method: string }): void {
        this.posted.push(m)
      }
      kill(): void {
        this.emit('exit', 0)
      }
    }
    const link = new UtilityCoreLink(() => {
      const c = new FakeChild()
      spawned.push(c)
      return c as unknown as UtilityProcess
    })
    const events: unknown[] = []
    link.onEvent((e) => events.push(e))
    const first = link.call('status', [])
    const child = spawned[0]!
    child.emit('message', { event: { type: 'channel', channel: '0x1' } })
    child.emit('message', { id: child.posted[0]!.id, ok: true, result: 42 })
    assert.deepEqual(await first, { ok: true, result: 42 })
    assert.deepEqual(events, [{ type: 'channel', channel: '0x1' }])
    const pending = link.call('status', [])
    child.emit('exit', 9) // a crash
    assert.equal(((await pending) as { error: { code: string } }).error.code, 'CORE_RESTARTED')
    assert.equal(spawned.length, 1, 'not restarted at once (a core crashing at start would spin)')
    assert.deepEqual(events.at(-1), { type: 'status' }, 'the UI is told to ask again')
    // Restarted after its delay (1 s): polled with a deadline, not a sleep that races the delay.
    const deadline = Date.now() + 10_000
    while (spawned.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    assert.equal(spawned.length, 2, 'the core was started again')
    // And calls go to the new process and get its replies.
    const again = link.call('status', [])
    const second = spawned[1]!
    assert.equal(second.posted.length, 1)
    second.emit('message', { id: second.posted[0]!.id, ok: true, result: 43 })
    assert.deepEqual(await again, { ok: true, result: 43 })
    link.stop()
  })
})
