/** Random bytes from the platform's CSPRNG: OpenSSL through a small pool in Node, WebCrypto in browsers. */
export { randomBytes } from "@phala-ts/primitives";
