// The three delivery classes of the bus (DESIGN.md, "QoS"), a leaf of its own: the bus delivers by
// them, and loom.toml sizes their queues (runtime/config) without depending on the bus.
export type QoS = 'realtime' | 'batched' | 'background';
