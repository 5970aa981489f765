"""``event_pb2_grpc`` of the reference. Its ``EventBus`` service is not served by Loom's runtime (the
bridge's ``EventStream`` and Loom's ``Runtime`` service carry publishing and subscribing), so there
is no stub here."""
__all__: list[str] = []
