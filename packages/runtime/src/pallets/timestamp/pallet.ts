import { T } from "../../types/index.ts";
import { palletStorage } from "../../state/storage-item.ts";
import { call, definePallet, moduleError } from "../../pallet/define-pallet.ts";

/**
 * Blocks may come as fast as transactions arrive on a dev chain, so the minimum gap
 * between timestamps is 1 ms rather than half a slot; the author keeps time monotonic.
 */
export const MINIMUM_PERIOD_MS = 1n;
export const TIMESTAMP_INDEX = 1;

const s = palletStorage("Timestamp");
export const TimestampStorage = {
  Now: s.value("Now", T.u64, { default: 0n, docs: ["The current time for the current block."] }),
  DidUpdate: s.value("DidUpdate", T.bool, { default: false, docs: ["Whether the timestamp has been updated in this block."] }),
};

export const TimestampErrors = ["TimestampTooEarly", "AlreadySet"] as const;

export const Timestamp = definePallet({
  name: "Timestamp",
  index: TIMESTAMP_INDEX,
  crate: "pallet_timestamp",
  storage: [TimestampStorage.Now, TimestampStorage.DidUpdate],
  errors: TimestampErrors,
  constants: {
    MinimumPeriod: { type: T.u64, value: MINIMUM_PERIOD_MS, docs: ["The minimum period between blocks."] },
  },
  calls: {
    set: call({
      index: 0,
      origin: "none",
      class: "Mandatory",
      args: { now: T.compact(T.u64) },
      weight: () => 10_000_000n,
      docs: ["Set the current time. Only as an inherent, once per block."],
      handler: (ctx, _w, a) => {
        if (TimestampStorage.DidUpdate.get(ctx.state)) return moduleError(TIMESTAMP_INDEX, TimestampErrors, "AlreadySet");
        const prev = TimestampStorage.Now.get(ctx.state);
        if (prev !== 0n && a.now < prev + MINIMUM_PERIOD_MS) return moduleError(TIMESTAMP_INDEX, TimestampErrors, "TimestampTooEarly");
        TimestampStorage.Now.set(ctx.state, a.now);
        TimestampStorage.DidUpdate.set(ctx.state, true);
        return undefined;
      },
    }),
  },
  hooks: {
    onFinalize: (ctx) => {
      TimestampStorage.DidUpdate.remove(ctx.state);
    },
  },
});
