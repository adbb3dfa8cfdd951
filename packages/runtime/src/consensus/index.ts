export * from "./certificate.ts";
export * from "./header.ts";
