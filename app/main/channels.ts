// IPC channel names shared by main and preload (kept apart so the preload bundle pulls in nothing else).
export const API_CHANNEL = 'offchain:api'
export const EVENT_CHANNEL = 'offchain:event'
