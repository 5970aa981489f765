"""``plugin_pb2_grpc`` of the reference. Its ``Plugin`` service is not served by Loom's runtime."""
__all__: list[str] = []
