"""``loom.agent.envelope``, where the reference SDK keeps ``Envelope``: this SDK's ``Event`` under that name."""
from ..event import META_PREFIX, Envelope, Event

__all__ = ["Envelope", "Event", "META_PREFIX"]
