// The renderer's only door: exactly the NodeApi's methods (each resolves with the core's reply) and its event
// stream (a listener gets an unsubscribe back), through contextBridge. No Electron or Node object crosses.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { METHOD_NAMES } from '../../core/node/api-methods.js'
import type { NodeEvent } from '../../core/node/node-api.js'
import { API_CHANNEL, EVENT_CHANNEL } from '../main/channels.js'

const api = Object.fromEntries(
  METHOD_NAMES.map((method) => [method, (...args: unknown[]): Promise<unknown> => ipcRenderer.invoke(API_CHANNEL, method, args)]),
)

contextBridge.exposeInMainWorld('offchain', {
  ...api,
  onEvent: (listener: (e: NodeEvent) => void): (() => void) => {
    const handler = (_event: IpcRendererEvent, e: NodeEvent): void => listener(e)
    ipcRenderer.on(EVENT_CHANNEL, handler)
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler)
    }
  },
})
