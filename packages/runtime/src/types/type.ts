/**
 * The shape of a declared type: one object carrying both its SCALE codec and its
 * scale-info description, so the TypeScript value type, the wire format and the
 * runtime metadata all come from the same declaration.
 */
import type { Codec } from "scale-ts";

export interface Type<T> {
  readonly codec: Codec<T>;
  readonly info: TypeInfo;
}

/** The TypeScript value type of a declared `Type`. */
export type Infer<Ty> = Ty extends Type<infer T> ? T : never;

export interface Field {
  name?: string;
  type: Type<any>;
  typeName?: string;
  docs?: string[];
}

export type PrimitiveName =
  | "bool" | "char" | "str"
  | "u8" | "u16" | "u32" | "u64" | "u128" | "u256"
  | "i8" | "i16" | "i32" | "i64" | "i128" | "i256";

export interface VariantInfo {
  name: string;
  index: number;
  fields: Field[];
  docs?: string[];
}

export type TypeDef =
  | { tag: "primitive"; value: PrimitiveName }
  | { tag: "composite"; fields: Field[] }
  | { tag: "variant"; variants: VariantInfo[] }
  | { tag: "sequence"; type: Type<any> }
  | { tag: "array"; len: number; type: Type<any> }
  | { tag: "tuple"; types: Type<any>[] }
  | { tag: "compact"; type: Type<any> };

export interface TypeParam {
  name: string;
  type?: Type<any>;
}

export interface TypeInfo {
  path: string[];
  params: TypeParam[];
  def: TypeDef;
  docs: string[];
}

/** Marks a `T.lazy` wrapper; the value is the thunk giving the real type. */
export const LAZY: unique symbol = Symbol("phala.lazyType");

/** Follows `T.lazy` wrappers to the declared type (the object the registry numbers). */
export function resolveType(type: Type<any>): Type<any> {
  let t = type;
  for (let hops = 0; ; hops++) {
    const thunk = (t as { [LAZY]?: () => Type<any> })[LAZY];
    if (thunk === undefined) return t;
    if (hops > 64) throw new Error("T.lazy chain does not resolve to a declared type");
    t = thunk();
  }
}
