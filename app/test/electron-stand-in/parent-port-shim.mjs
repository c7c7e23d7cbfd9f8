// Gives a Node child process the `process.parentPort` an Electron utility process has, over Node's IPC channel.
process.parentPort = {
  on(event, listener) {
    if (event === 'message') process.on('message', (data) => listener({ data }))
  },
  postMessage(message) {
    if (process.connected) process.send(message)
  },
}
