/**
 * A byte string as a JS string of the same length, one char per byte (latin1): a `Map` key whose
 * `<` order is the bytes' order. Short arrays go through `String.fromCharCode`, because the
 * `Buffer` route reads `.buffer`, which moves a small (on-heap) array off the heap first.
 */
export function bytesKey(bytes: Uint8Array): string {
  if (bytes.length <= 1024) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}
