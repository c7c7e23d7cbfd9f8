// The NodeApi's method names, free of any dependency: Electron's preload (a small sandboxed bundle) exposes
// exactly these. node-api.ts checks at compile time that its schemas cover the same names.
export const METHOD_NAMES = [
  'status',
  'unlockVault',
  'createAccount',
  'importPrivateKey',
  'importKeystore',
  'exportKeystore',
  'selectAccount',
  'useNetwork',
  'sandboxFund',
  'createChannel',
  'channelSettings',
  'joinChannel',
  'deposit',
  'channel',
  'send',
  'exit',
  'withdraw',
  'closeChannel',
  'dismissResumed',
] as const

export type MethodNameList = (typeof METHOD_NAMES)[number]
