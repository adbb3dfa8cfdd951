/**
 * Numbers declared types for the metadata's portable type registry (scale-info
 * `PortableRegistry`). The same Type object always gets the same id; ids are
 * assigned depth-first in first-visit order, and a type gets its id before its
 * fields are visited, so recursive (`T.lazy`) types terminate.
 */
import type { V14Lookup } from "@polkadot-api/substrate-bindings";
import { resolveType, type Field, type Type, type TypeDef } from "../types/index.ts";

export type LookupEntry = V14Lookup[number];
type LookupDef = LookupEntry["def"];
type LookupField = Extract<LookupDef, { tag: "composite" }>["value"][number];

export class TypeRegistry {
  readonly #ids = new Map<Type<any>, number>();
  readonly #entries: (LookupEntry | undefined)[] = [];

  /** The registry id of `type` (following `T.lazy`), registering it and everything it refers to on first use. */
  id(type: Type<any>): number {
    const t = resolveType(type);
    const known = this.#ids.get(t);
    if (known !== undefined) return known;
    const id = this.#entries.length;
    this.#ids.set(t, id);
    this.#entries.push(undefined);
    const info = t.info;
    const params = info.params.map((p) => ({ name: p.name, type: p.type === undefined ? undefined : this.id(p.type) }));
    const def = this.#def(info.def);
    this.#entries[id] = { id, path: [...info.path], params, def, docs: [...info.docs] };
    return id;
  }

  /** Number of registered types. */
  get size(): number {
    return this.#entries.length;
  }

  /** The portable registry in id order, in the shape of substrate-bindings' `v14Lookup` codec. */
  lookup(): LookupEntry[] {
    return this.#entries.map((e, id) => {
      if (e === undefined) throw new Error(`type ${id} is still being registered`);
      return e;
    });
  }

  #fields(fields: Field[]): LookupField[] {
    return fields.map((f) => ({ name: f.name, type: this.id(f.type), typeName: f.typeName, docs: f.docs ? [...f.docs] : [] }));
  }

  #def(def: TypeDef): LookupDef {
    switch (def.tag) {
      case "primitive":
        return { tag: "primitive", value: { tag: def.value, value: undefined } };
      case "composite":
        return { tag: "composite", value: this.#fields(def.fields) };
      case "variant":
        return {
          tag: "variant",
          value: def.variants.map((v) => ({ name: v.name, fields: this.#fields(v.fields), index: v.index, docs: v.docs ? [...v.docs] : [] })),
        };
      case "sequence":
        return { tag: "sequence", value: this.id(def.type) };
      case "array":
        return { tag: "array", value: { len: def.len, type: this.id(def.type) } };
      case "tuple":
        return { tag: "tuple", value: def.types.map((t) => this.id(t)) };
      case "compact":
        return { tag: "compact", value: this.id(def.type) };
    }
  }
}
