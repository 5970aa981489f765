"""``agent_pb2_grpc`` of the reference. Its ``AgentRuntime`` service is not served by Loom's runtime
(agents register over the Bridge; Loom's ``Runtime`` service lists and controls them)."""
__all__: list[str] = []
