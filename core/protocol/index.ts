export * from './types.js'
export * from './eip712.js'
export * from './merkle.js'
export * from './signatures.js'
