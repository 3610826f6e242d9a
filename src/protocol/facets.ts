// What the host and the runtime agree on for facets (src/storage/facets.ts, src/runtime/facet.ts).

/**
 * A facet's calls go to the entrypoint named by this prefix and the class's export name: the
 * runtime then keeps one instance of that class for the worker (a facet has a worker of its own)
 * instead of making one per call. The props of such a call are [props, id, name, depth].
 */
export const FACET_ENTRY_PREFIX = "\u0000facet:";

/** The env binding that holds the facet's storage capability; the runtime takes it out of env. */
export const FACET_STORAGE_BINDING = "\u0000islet:facet-storage";

/**
 * The method the host calls on a facet entry when the facet's alarm fires: the runtime calls the
 * instance's `alarm({ retryCount, isRetry })`, if it has one. No method name user code can give a
 * stub reaches it by accident (it starts with NUL), and it is not the RPC method `alarm`.
 */
export const FACET_ALARM_METHOD = "\u0000islet:alarm";

/** The deepest a facet may be, the host object counted as 1 (workerd's limit): a facet's facets' facets can have none. */
export const MAX_FACET_DEPTH = 4;

/** workerd's words when a facet at MAX_FACET_DEPTH asks for one of its own. */
export const FACET_DEPTH_MESSAGE = `Facet nesting depth limit exceeded. The maximum depth including the root Durable Object is ${MAX_FACET_DEPTH}.`;
