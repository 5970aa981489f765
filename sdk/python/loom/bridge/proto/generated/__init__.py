"""The reference SDK's generated-module names, one per .proto of its ``loom-proto`` (event, action,
bridge, memory, agent, plugin), each exposing the classes of this SDK's own generated stubs
(``loom._proto``). A ``loom.v1`` message may be defined only once in a process's descriptor pool,
so these modules re-export rather than regenerate: the classes are the very ones the SDK sends.
"""
