export * from './channel-client.js'
export * from './devnet.js'
export * from './errors.js'
export * from './provider.js'
