// The renderer's only door: the NodeApi's calls and its events, through contextBridge. Listeners get an
// unsubscribe back. No Electron or Node object crosses.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { API_CHANNEL, EVENT_CHANNEL } from '../main/channels.js'
import type { NodeEvent } from '../../core/node/node-api.js'

contextBridge.exposeInMainWorld('offchain', {
  call: (method: string, args: unknown[]): Promise<unknown> => ipcRenderer.invoke(API_CHANNEL, method, args),
  onEvent: (listener: (e: NodeEvent) => void): (() => void) => {
    const handler = (_event: IpcRendererEvent, e: NodeEvent): void => listener(e)
    ipcRenderer.on(EVENT_CHANNEL, handler)
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler)
    }
  },
})
