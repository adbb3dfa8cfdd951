/** The pRuntime release, reported by /info. */
export const PRUNTIME_VERSION = "0.1.0";
/**
 * The runtime version bound into registrations: the chain refuses registrations from
 * versions it no longer accepts. Bumped whenever behaviour visible to the chain changes.
 */
export const PRUNTIME_RUNTIME_VERSION = 1;
