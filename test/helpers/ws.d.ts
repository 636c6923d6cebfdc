/** `ws` ships no types; tests only hand its WebSocket class to @jupyterlab/services. */
declare module 'ws' {
  const WebSocket: typeof globalThis.WebSocket;
  export default WebSocket;
}
