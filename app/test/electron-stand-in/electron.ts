// A stand-in for the `electron` module (its binary cannot be downloaded here), just enough for app/main to run
// in plain Node: it records what main asks of Electron, and its utilityProcess runs the real core host as a Node
// child process with a parentPort shim.
import { fork, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { fileURLToPath } from 'node:url'

export const record = {
  privilegedSchemes: [] as unknown[],
  paths: new Map<string, string>(),
  singleInstanceLock: false,
  protocolHandlers: new Map<string, (request: Request) => Promise<Response>>(),
  ipcHandlers: new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>(),
  windows: [] as BrowserWindow[],
  permissionRequest: undefined as undefined | ((c: unknown, p: string, cb: (ok: boolean) => void) => void),
  permissionCheck: undefined as undefined | (() => boolean),
  forks: [] as StandInUtilityProcess[],
  readyAt: 0,
}

class App extends EventEmitter {
  setPath(name: string, path: string): void {
    record.paths.set(name, path)
  }
  requestSingleInstanceLock(): boolean {
    record.singleInstanceLock = true
    return true
  }
  whenReady(): Promise<void> {
    return new Promise((resolve) => setTimeout(() => {
      record.readyAt = Date.now()
      resolve()
    }, 10))
  }
  quit(): void {
    this.emit('before-quit')
  }
}
export const app = new App()

class WebContents extends EventEmitter {
  openHandler: (() => { action: string }) | undefined
  sent: Array<[string, unknown]> = []
  setWindowOpenHandler(h: () => { action: string }): void {
    this.openHandler = h
  }
  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload])
  }
}

export class BrowserWindow extends EventEmitter {
  readonly webContents = new WebContents()
  url: string | undefined
  constructor(readonly options: Record<string, unknown>) {
    super()
    record.windows.push(this)
    app.emit('web-contents-created', {}, this.webContents)
  }
  async loadURL(url: string): Promise<void> {
    this.url = url
  }
  show(): void {}
  isMinimized(): boolean {
    return false
  }
  restore(): void {}
  focus(): void {}
}

export const ipcMain = {
  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => Promise<unknown>): void {
    record.ipcHandlers.set(channel, handler)
  },
}

export const protocol = {
  registerSchemesAsPrivileged(schemes: unknown[]): void {
    if (record.readyAt) throw new Error('schemes must be registered before the app is ready')
    record.privilegedSchemes.push(...schemes)
  },
  handle(scheme: string, handler: (request: Request) => Promise<Response>): void {
    record.protocolHandlers.set(scheme, handler)
  },
}

export const session = {
  defaultSession: {
    setPermissionRequestHandler(h: typeof record.permissionRequest): void {
      record.permissionRequest = h
    },
    setPermissionCheckHandler(h: typeof record.permissionCheck): void {
      record.permissionCheck = h
    },
  },
}

const SHIM = fileURLToPath(new URL('./parent-port-shim.mjs', import.meta.url))

/** Electron's UtilityProcess, played by a Node child process. */
class StandInUtilityProcess extends EventEmitter {
  readonly child: ChildProcess
  constructor(modulePath: string, args: string[]) {
    super()
    this.child = fork(modulePath, args, { execArgv: ['--import', SHIM], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    this.child.on('message', (m) => this.emit('message', m))
    this.child.on('exit', (code) => this.emit('exit', code ?? 1))
  }
  get pid(): number | undefined {
    return this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined
  }
  postMessage(message: unknown): void {
    if (this.child.connected) this.child.send(message as object)
  }
  kill(): boolean {
    return this.child.kill('SIGTERM')
  }
}

export const utilityProcess = {
  fork(modulePath: string, args: string[]): StandInUtilityProcess {
    const p = new StandInUtilityProcess(modulePath, args)
    record.forks.push(p)
    return p
  },
}

export default { app, BrowserWindow, ipcMain, protocol, session, utilityProcess }
